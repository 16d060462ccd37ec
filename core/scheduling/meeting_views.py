"""How a meeting looks to each of its people, and what each may do with it.

Shared by the meeting use cases (``core.scheduling.meetings``), booking and polls.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from zoneinfo import ZoneInfo

from core import wording
from core.actions import (
    AcceptMeeting,
    CancelMeeting,
    DeclineMeeting,
    DownloadInvitation,
    MoveMeeting,
    OtherTimes,
    SetPlace,
)
from core.invitations import InvitationEmail, invitation
from core.meetings import Meeting, MeetingStatus
from core.people import Person, PersonId
from core.program import ConfirmationRule, ProgramSettings
from core.scheduling import announce
from core.scheduling.context import Context, Ports, zone_of
from core.views import Button, ButtonStyle, Confirmation, DirectMessage, TextInput

PLACE_LABEL = "Add a link or a room"


async def people_of(ports: Ports, ids: Sequence[PersonId]) -> list[Person]:
    found = await ports.people.many(ids)
    return [found[pid] for pid in ids if pid in found]


async def one_of(
    ports: Ports, meeting: Meeting, person: PersonId
) -> tuple[Person, list[Person], ProgramSettings] | None:
    """``person`` of ``meeting`` (None when they are no longer), with everyone in it and the
    program's settings: what a message to one of them needs."""
    people = await people_of(ports, meeting.participants)
    found = next((p for p in people if p.id == person), None)
    if found is None:
        return None
    return found, people, await ports.programs.settings(meeting.program)


def asks_partner(settings: ProgramSettings, participants: Sequence[PersonId]) -> bool:
    """Whether a chosen time waits for the other person's answer: pairs, under ``partner``."""
    return settings.confirmation is ConfirmationRule.PARTNER and len(participants) == 2


def zone_for(person: Person, settings: ProgramSettings, ctx: Context | None) -> ZoneInfo:
    """Where ``person`` reads times: the speaker's own zone, else their profile's."""
    if ctx is not None and person.id == ctx.person.id:
        return ctx.zone
    return zone_of(person.timezone, settings.default_timezone)


def buttons_for(ports: Ports, meeting: Meeting, person: PersonId) -> tuple[Button, ...]:
    """What ``person`` may do with ``meeting`` now."""
    if not meeting.status.active or person not in meeting.attending:
        return ()
    seal = ports.actions.seal
    ref, sequence = meeting.ref, meeting.sequence
    if meeting.status is MeetingStatus.PROPOSED and meeting.is_pair and person != meeting.proposer:
        return (
            Button("Accept", seal(AcceptMeeting(ref, sequence)), ButtonStyle.PRIMARY),
            Button("Decline", seal(DeclineMeeting(ref, sequence)), ButtonStyle.DANGER),
            Button("Other times", seal(OtherTimes(ref, sequence))),
        )
    if meeting.may_change(person):
        return (
            Button("Move", seal(MoveMeeting(ref))),
            Button("Cancel meeting", seal(CancelMeeting(ref)), ButtonStyle.DANGER),
        )
    return (Button("Decline", seal(DeclineMeeting(ref, sequence)), ButtonStyle.DANGER),)


def view(
    ports: Ports,
    meeting: Meeting,
    person: Person,
    people: Sequence[Person],
    settings: ProgramSettings,
    *,
    headline: str,
    zone: ZoneInfo,
    notes: Sequence[str] = (),
    buttons: bool = True,
    place: bool = False,
    files: bool = True,
) -> Confirmation:
    """``meeting`` as ``person`` sees it, with the .ics and what they may do now.

    Without ``buttons`` and ``files``: the bare record that replaces a picker clicked (the
    confirmation with all of it goes to each person privately)."""
    others = tuple(p.name for p in people if p.id != person.id and p.id in meeting.attending)
    return Confirmation(
        headline=headline,
        title=meeting.title,
        start=meeting.start,
        end=meeting.end,
        zone=zone,
        with_names=others,
        invitation=invitation(
            meeting, people, settings, stamp=ports.clock.now(), sender=announce.sender(ports)
        )
        if files
        else None,
        download=ports.actions.seal(DownloadInvitation(meeting.ref, person.id)) if files else None,
        buttons=buttons_for(ports, meeting, person.id) if buttons else (),
        cancelled=not meeting.status.active or person.id in meeting.declined,
        pending=meeting.status is MeetingStatus.PROPOSED,
        location=meeting.location,
        notes=tuple(notes),
        place=place_field(ports, meeting) if place else None,
    )


def told(
    ports: Ports,
    meeting: Meeting,
    people: Sequence[Person],
    settings: ProgramSettings,
    *,
    to: Iterable[Person],
    headline: str,
    ctx: Context | None = None,
    notes: Sequence[str] = (),
    place: bool = False,
) -> tuple[DirectMessage, ...]:
    """``meeting`` as each of ``to`` sees it, in their own zone (the speaker's as they
    speak), under ``headline``."""
    return tuple(
        DirectMessage(
            person.id,
            view(
                ports,
                meeting,
                person,
                people,
                settings,
                headline=headline,
                zone=zone_for(person, settings, ctx),
                notes=notes,
                place=place,
            ),
        )
        for person in to
    )


def state_of(meeting: Meeting, person: PersonId, names: Mapping[PersonId, str]) -> str:
    """The meeting's state in words, for ``person``."""
    if person in meeting.declined:
        return "You declined this meeting."
    match meeting.status:
        case MeetingStatus.CANCELLED:
            return "This meeting is cancelled."
        case MeetingStatus.DECLINED:
            return "This time was declined; the meeting is off."
        case MeetingStatus.PROPOSED:
            if person == meeting.proposer:
                other = meeting.partner_of(person)
                return f"Waiting for {names.get(other, 'your partner') if other else 'an answer'}."
            who = names.get(meeting.proposer, "Your partner") if meeting.proposer else None
            return f"{who or 'Your partner'} proposes this time."
        case MeetingStatus.CONFIRMED:
            return "Confirmed."


def place_field(ports: Ports, meeting: Meeting) -> TextInput:
    return TextInput(
        PLACE_LABEL,
        ports.actions.seal(SetPlace(meeting.ref)),
        "Save",
        "https://… or Room 4B",
    )


def not_emailed(
    people: Sequence[Person], messages: Sequence[InvitationEmail], ports: Ports
) -> list[str]:
    """What the person who booked should know about the invitations' emails."""
    if ports.mailer is None:
        return []
    emailed = {m.to.address.lower() for m in messages}
    missing = [p.name for p in people if not p.email or p.email.lower() not in emailed]
    if not missing:
        return ["The invitation is on its way to everyone by email."]
    who = wording.names(missing)
    verb = "has" if len(missing) == 1 else "have"
    return [
        (
            f"{who} {verb} no email address in their chat profile, so no invitation was "
            "emailed to them; they can add the .ics file from their confirmation."
        )
    ]


def title_of(people: Sequence[Person]) -> str:
    if len(people) == 2:
        return f"Mentoring: {people[0].name} and {people[1].name}"
    return f"Mentoring circle ({len(people)} people)"


def lead_of(meeting: Meeting, people: Sequence[Person], person: PersonId) -> str:
    """What replaces the picker clicked: booked, or proposed and waiting for whom."""
    if meeting.status is MeetingStatus.PROPOSED:
        if meeting.proposer is not None and meeting.proposer != person:
            name = next((p.name for p in people if p.id == meeting.proposer), "Your partner")
            return f"{name} proposed this time for {meeting.title}: answer in our direct messages"
        other = meeting.partner_of(person)
        name = next((p.name for p in people if p.id == other), "an answer")
        return f"Proposed: {meeting.title}, waiting for {name}"
    return f"Booked: {meeting.title}"

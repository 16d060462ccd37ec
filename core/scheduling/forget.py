"""Forgetting a person: "forget me" in chat (asked first), or ``pairtime people forget``.

Their calendar access is revoked and deleted; their coming meetings are cancelled (a pair's,
or a circle's they organise) with cancellations emailed to the others and a line in chat,
or left (a circle meeting someone else organises); then storage erases them
(:class:`core.ports.PersonalData`). The cancellations are written so that they no longer
name the person: their name in a title becomes "a former participant", and they are not
listed among the attendees, so nothing queued to go out names them either.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from core.actions import ForgetMe, KeepMe
from core.invitations import Method
from core.jobs import NewJob
from core.meetings import Meeting, MeetingStatus
from core.people import Person, PersonId, ProgramId
from core.privacy import scrubbed
from core.scheduling import announce, publishing
from core.scheduling.context import Context, Ports
from core.scheduling.meeting_views import one_of, people_of, view, zone_for
from core.views import Button, ButtonStyle, DirectMessage, Notice, Outcome, Tone

LEFT = "meeting.left"  # the job telling someone their meeting went with a forgotten person
NOT_HERE = "Forgetting people isn't available on this server; ask your program's admin."
QUESTION = (
    "Forget you? I would delete your calendar connection (and revoke my access to it), "
    "your profile and chat accounts, and take you out of your pairs and circles. Your "
    "coming meetings would be cancelled and the others told. Votes and meetings you took "
    "part in stay only as anonymous numbers. This can't be undone."
)
ATTEMPTS = 3  # a meeting changed by someone else meanwhile is read again, this often


@dataclass(frozen=True, slots=True)
class Forgotten:
    """What forgetting someone did: meetings cancelled for everyone, circle meetings they
    were taken off, and the records storage removed, by kind."""

    cancelled: int
    left: int
    removed: Mapping[str, int]


def ask(ports: Ports, ctx: Context) -> Outcome:
    """The question "forget me" gets: nothing changes until its button is pressed."""
    if ports.personal_data is None:
        return Outcome(Notice(NOT_HERE, Tone.WARNING))
    seal = ports.actions.seal
    buttons = (
        Button("Forget me", seal(ForgetMe(ctx.person.id)), ButtonStyle.DANGER),
        Button("Keep my data", seal(KeepMe())),
    )
    question = Notice(QUESTION, Tone.WARNING, buttons)
    if ctx.private:
        return Outcome(question)
    return Outcome(
        Notice("I've asked you in our direct messages."),
        direct=(DirectMessage(ctx.person.id, question),),
    )


def keep(action: KeepMe) -> Outcome:
    del action
    return Outcome(Notice("Nothing was removed.", Tone.SUCCESS), replaces_original=True)


async def confirm(ports: Ports, ctx: Context, action: ForgetMe) -> Outcome:
    if action.requester != ctx.person.id:
        return Outcome(Notice("That button was meant for someone else.", Tone.WARNING))
    if ports.personal_data is None:
        return Outcome(Notice(NOT_HERE, Tone.WARNING))
    done = await forget(ports, ctx.person)
    meetings = done.cancelled + done.left
    told = (
        f" and cancelled or left {meetings} coming meeting(s), telling the others"
        if meetings
        else ""
    )
    return Outcome(
        Notice(
            f"Done: I removed your calendar connection, your pairs, circles and profile{told}. "
            "If you write to me again, I'll start afresh.",
            Tone.SUCCESS,
        ),
        replaces_original=True,
    )


async def forget(ports: Ports, person: Person) -> Forgotten:
    """Forget ``person`` everywhere; safe to repeat (a second time finds nothing)."""
    assert ports.personal_data is not None, "checked by the callers"
    await ports.connections.disconnect(person.id)  # revokes the access at the provider too
    cancelled = left = 0
    for upcoming in await ports.meetings.upcoming(person.id, ports.clock.now()):
        meeting: Meeting | None = upcoming
        for _ in range(ATTEMPTS):
            if meeting is None or not meeting.status.active:
                break
            outcome = await _without(ports, meeting, person)
            if outcome is not None:
                cancelled += outcome == "cancelled"
                left += outcome == "left"
                break
            meeting = await ports.meetings.get(upcoming.ref)
    removed = await ports.personal_data.erase(person.id)
    return Forgotten(cancelled, left, removed)


async def _without(ports: Ports, meeting: Meeting, person: Person) -> str | None:
    """Cancel ``meeting`` (a pair's, or one ``person`` organises) or take ``person`` off it;
    None when another change got there first."""
    now = ports.clock.now()
    if not meeting.is_pair and meeting.organizer != person.id:
        # Off a circle meeting someone else organises: nothing is sent to them any more.
        changed = replace(meeting, declined=(*meeting.declined, person.id))
        stored = await ports.meetings.change(changed, expected=meeting.sequence)
        return None if stored is None else "left"
    people = [p for p in await people_of(ports, meeting.participants) if p.id != person.id]
    settings = await ports.programs.settings(meeting.program)
    title = scrubbed(meeting.title, (person.name,))
    cancelled = replace(meeting, status=MeetingStatus.CANCELLED, title=title)
    future = replace(cancelled, sequence=meeting.sequence + 1)
    attending = [p for p in people if p.id in meeting.attending]
    messages = announce.invitation_emails(
        ports,
        future,
        people,
        settings,
        stamp=now,
        to=attending,
        method=Method.CANCEL,
        listed=people,
    )
    jobs = [
        *await publishing.delivery_jobs(ports, future, messages, now),
        *(
            NewJob(
                LEFT,
                f"{LEFT}:{meeting.ref}:{other.id}",
                {"program": meeting.program, "meeting": meeting.ref, "person": other.id},
                due_at=now,
            )
            for other in attending
        ),
    ]
    stored = await ports.meetings.change(cancelled, expected=meeting.sequence, jobs=jobs)
    return None if stored is None else "cancelled"


async def left_notice(ports: Ports, payload: Mapping[str, Any]) -> tuple[ProgramId, Outcome] | None:
    """The line in chat to someone whose meeting went when the other person was forgotten."""
    meeting = await ports.meetings.get(str(payload.get("meeting", "")))
    person_id = PersonId(str(payload.get("person", "")))
    if meeting is None or meeting.status is not MeetingStatus.CANCELLED:
        return None
    found = await one_of(ports, meeting, person_id)
    if found is None:
        return None
    person, people, settings = found
    message = view(
        ports,
        meeting,
        person,
        people,
        settings,
        headline=(
            f"{meeting.title} is cancelled: someone in it left the program and asked to be "
            "forgotten."
        ),
        zone=zone_for(person, settings, None),
        buttons=False,
    )
    return meeting.program, Outcome(None, direct=(DirectMessage(person.id, message),))

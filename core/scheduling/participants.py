"""Turning "my mentee", "<@U123>", "@maria", "Sam Carter" or "sam@example.org" into people,
or into a clear question, within whose free times the speaker may see.

A name typed in plain words is looked up among the speaker's partners first (mentors,
mentees, circle co-members), then among the program's people when the program's
``availability_visible_to`` rule is ``program`` or the speaker is an admin
(``core.scheduling.lookup`` says what matches). Every person named is found, asked about
or reported by name: nobody is dropped silently, and a person the speaker may not see is
refused before anything of theirs is read.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

from core.commands import Mention, Name, Named, ParticipantRef, Relation, RelationRef
from core.people import Acquaintances, Listing, Person, PersonId, ProgramId
from core.program import Visibility
from core.scheduling import lookup
from core.scheduling.context import Context, Ports

MAX_CHOICES = 8  # buttons when several names are each ambiguous: beyond, ask to mention them
ONLY_PARTNERS = "You can only find times with your mentoring partners"


@dataclass(frozen=True, slots=True)
class Option:
    label: str
    people: tuple[Person, ...]


@dataclass(frozen=True, slots=True)
class Chosen:
    people: tuple[Person, ...]  # never the speaker
    notes: tuple[str, ...] = ()  # what the answer should say: a name left out that fit nobody
    known: Acquaintances | None = None  # the speaker's, as read to resolve these people


@dataclass(frozen=True, slots=True)
class Ask:
    """Several answers fit: ask which, keeping the people already settled."""

    text: str
    options: tuple[Option, ...]
    settled: tuple[Person, ...]


@dataclass(frozen=True, slots=True)
class Refuse:
    """Nothing to do as asked; ``settled`` are the people who were found, so that the answer
    can offer to carry on with them alone."""

    text: str
    settled: tuple[Person, ...] = ()


Resolution = Chosen | Ask | Refuse


@dataclass(frozen=True, slots=True)
class _Missing:
    words: str  # as said: “Sam” as typed (quoted), or a mentioned person's name
    hidden: bool  # known, or maybe known, but not the speaker's to see


@dataclass
class _Scope:
    """Whom the speaker may name, and the program's listings once read."""

    partners: tuple[Person, ...]
    anyone: bool
    known: Acquaintances = field(default_factory=Acquaintances)
    listings: list[Listing] | None = None
    handles: dict[str, str | None] = field(default_factory=dict)

    def mentioned(self, user_id: str) -> Person | None:
        """The partner a mention names, when it is one (no read needed)."""
        named = self.known.user_ids.get(user_id)
        return next((p for p in self.partners if p.id == named), None)

    def allows(self, person: PersonId) -> bool:
        return self.anyone or any(p.id == person for p in self.partners)


_NAMES = {
    Relation.MENTEE: ("mentee", "mentees"),
    Relation.MENTOR: ("mentor", "mentors"),
    Relation.PARTNER: ("mentoring partner", "mentoring partners"),
}


async def resolve(
    ports: Ports,
    ctx: Context,
    refs: Sequence[ParticipantRef],
    *,
    without: Sequence[ParticipantRef] = (),
    seeing: bool = True,
) -> Resolution:
    """The people ``refs`` name (less those ``without`` names), or why not.

    ``seeing`` is True when the speaker is about to see these people's free times: then
    only the people the program's visibility rule allows are found. Looking for one's own
    meetings ("cancel my meeting with Sam") passes False.
    """
    if not refs:
        return await _ask_who(ports, ctx)
    scope = await _scope(ports, ctx, seeing=seeing)
    settled: list[Person] = []
    questions: list[Ask] = []
    missing: list[_Missing] = []
    for ref in refs:
        found = await _resolve_one(ports, ctx, ref, scope)
        match found:
            case Refuse():
                return found
            case Ask():
                questions.append(found)
            case _Missing():
                missing.append(found)
            case Chosen(people):
                settled.extend(people)
    people = _without_speaker(settled, ctx)
    notes: tuple[str, ...] = ()
    if without:
        people, unmatched = await _leave_out(ports, ctx, people, without, scope)
        notes = tuple(
            f"Nobody among them is called “{words}”, so I left nobody out for it."
            for words in unmatched
        )
    if missing:
        return Refuse(_missing_text(missing), people)
    if questions:
        return _one_question(questions, people)
    if not people:
        return await _ask_who(ports, ctx)
    return Chosen(people, notes, scope.known)


async def may_see(ports: Ports, ctx: Context, people: Sequence[PersonId]) -> bool:
    """Whether the speaker may see the free times of ``people`` (a replayed button)."""
    scope = await _scope(ports, ctx, seeing=True)
    return all(pid == ctx.person.id or scope.allows(pid) for pid in people)


async def partners(ports: Ports, ctx: Context) -> list[Person]:
    """The speaker's mentees and mentors in this program, mentees first."""
    mentees = await ports.pairings.mentees_of(ctx.program, ctx.person.id)
    mentors = await ports.pairings.mentors_of(ctx.program, ctx.person.id)
    return _unique([*mentees, *mentors])


async def _scope(ports: Ports, ctx: Context, *, seeing: bool) -> _Scope:
    return await _scope_of(ports, ctx.program, ctx.person.id, seeing=seeing)


async def _scope_of(
    ports: Ports, program: ProgramId, viewer: PersonId, *, seeing: bool = True
) -> _Scope:
    known = await ports.pairings.acquaintances(program, viewer)
    everyone = [
        p for p in _unique([*known.mentees, *known.mentors, *known.co_members]) if p.id != viewer
    ]
    anyone = not seeing
    if not anyone:
        settings = await ports.programs.settings(program)
        anyone = settings.availability_visible_to is Visibility.PROGRAM or known.admin
    return _Scope(tuple(everyone), anyone, known)


async def visible_to(
    ports: Ports, program: ProgramId, viewer: PersonId, people: Sequence[PersonId]
) -> list[PersonId]:
    """Those of ``people`` whose calendars may count for ``viewer`` (a poll's organiser):
    a channel poll invites the channel, but reads only the organiser's partners' calendars
    under the ``partners`` rule, so its times and busy counts reveal nobody else's."""
    scope = await _scope_of(ports, program, viewer)
    return [pid for pid in people if pid == viewer or scope.allows(pid)]


async def _listed(ports: Ports, ctx: Context, scope: _Scope) -> list[Listing]:
    if scope.listings is None:
        scope.listings = list(await ports.people.listings(ctx.program))
        scope.handles = {entry.person.id: entry.handle for entry in scope.listings}
    return scope.listings


async def _resolve_one(
    ports: Ports, ctx: Context, ref: ParticipantRef, scope: _Scope
) -> Resolution | _Missing:
    match ref:
        case Mention(user_id):
            person = scope.mentioned(user_id) or await ports.people.by_chat_user(
                ctx.program, user_id
            )
            if person is None:
                return Refuse(
                    "I don't know the person you mentioned yet. They need to be a member of "
                    "this workspace; ask them to say hello to me first."
                )
            if person.id != ctx.person.id and not scope.allows(person.id):
                return _Missing(person.name, hidden=True)
            return Chosen((person,))
        case Name(name) | Named(text=name):
            return await _by_name(ports, ctx, name, scope)
        case RelationRef(relation):
            return await _resolve_relation(ports, ctx, relation, scope.known)


async def _by_name(ports: Ports, ctx: Context, name: str, scope: _Scope) -> Resolution | _Missing:
    """Partners first: "Sam" is the speaker's mentee Sam even when the program has three."""
    listed = await _listed(ports, ctx, scope)
    own = [_entry(person, scope) for person in scope.partners]
    matches = lookup.matching(name, own)
    if not matches and scope.anyone:
        matches = [p for p in lookup.matching(name, listed) if p.id != ctx.person.id]
    if not matches:
        return _Missing(f"“{name}”", hidden=not scope.anyone)
    if len(matches) == 1:
        return Chosen((matches[0],))
    labels = lookup.labels(matches, scope.handles)
    return Ask(
        f"More than one person is called “{name}”. Which one did you mean?",
        tuple(Option(label, (person,)) for label, person in zip(labels, matches, strict=True)),
        (),
    )


def _entry(person: Person, scope: _Scope) -> Listing:
    return Listing(person, scope.handles.get(person.id))


async def _leave_out(
    ports: Ports,
    ctx: Context,
    people: tuple[Person, ...],
    without: Sequence[ParticipantRef],
    scope: _Scope,
) -> tuple[tuple[Person, ...], list[str]]:
    """``people`` less those ``without`` names ("my circle except Sam"), and the names that
    fit none of them (said back, not dropped in silence)."""
    await _listed(ports, ctx, scope)
    left_out: set[PersonId] = set()
    unmatched: list[str] = []
    for ref in without:
        match ref:
            case Mention(user_id):
                person = scope.mentioned(user_id) or await ports.people.by_chat_user(
                    ctx.program, user_id
                )
                if person is not None:
                    left_out.add(person.id)
            case Name(name) | Named(text=name):
                entries = [_entry(person, scope) for person in people]
                fit = lookup.matching(name, entries)
                left_out.update(p.id for p in fit)
                if not fit:
                    unmatched.append(name)
            case RelationRef(relation):
                found = await _resolve_relation(ports, ctx, relation, scope.known)
                if isinstance(found, Chosen):
                    left_out.update(p.id for p in found.people)
    return tuple(person for person in people if person.id not in left_out), unmatched


def _missing_text(missing: Sequence[_Missing]) -> str:
    sentences = []
    unknown = [m.words for m in missing if not m.hidden]
    hidden = [m.words for m in missing if m.hidden]
    if unknown:
        sentences.append(
            f"I couldn't find anyone called {_either(unknown)} in this program. Check the "
            "spelling, or mention them (@name) or write their e-mail address."
        )
    if hidden:
        them = "one of them" if len(hidden) == 1 else "among them"
        sentences.append(f"{ONLY_PARTNERS}, and {_either(hidden)} isn't {them}.")
    return " ".join(sentences)


def _either(words: Sequence[str]) -> str:
    if len(words) == 1:
        return words[0]
    return f"{', '.join(words[:-1])} or {words[-1]}"


def _one_question(questions: Sequence[Ask], settled: tuple[Person, ...]) -> Resolution:
    """One question for every ambiguity: each button settles them all at once."""
    if len(questions) == 1:
        return Ask(questions[0].text, questions[0].options, settled)
    combos = list(itertools.islice(itertools.product(*(q.options for q in questions)), 100))
    if len(combos) > MAX_CHOICES:
        return Refuse(
            "Several of the people you named could be more than one person. Mention them "
            "(@name), or write their e-mail addresses.",
            settled,
        )
    return Ask(
        "Some of the people you named could be more than one person. Which did you mean?",
        tuple(
            Option(
                " and ".join(option.label for option in combo),
                tuple(p for option in combo for p in option.people),
            )
            for combo in combos
        ),
        settled,
    )


async def _resolve_relation(
    ports: Ports, ctx: Context, relation: Relation, known: Acquaintances
) -> Resolution:
    """``known`` is the speaker's, read for this request already."""
    if relation is Relation.GROUP:
        groups = await ports.groups.groups_of(ctx.program, ctx.person.id)
        if not groups:
            return Refuse(
                "You're not in a mentoring circle yet. Ask your program admin to add you, "
                "or mention the people you'd like to meet."
            )
        options = []
        for group in groups:
            members = await ports.people.many(group.members)
            options.append(
                Option(group.name, tuple(members[m] for m in group.members if m in members))
            )
        if len(options) > 1:
            return Ask("You're in several circles. Which one?", tuple(options), ())
        return Chosen(options[0].people)

    if relation in (Relation.MENTEE, Relation.MENTEES):
        people = list(known.mentees)
        singular, plural = _NAMES[Relation.MENTEE]
    elif relation is Relation.MENTOR:
        people = list(known.mentors)
        singular, plural = _NAMES[Relation.MENTOR]
    else:
        people = _unique([*known.mentees, *known.mentors])
        singular, plural = _NAMES[Relation.PARTNER]
    if not people:
        return Refuse(
            f"You don't have a {singular} in this program yet. Ask your program admin to pair "
            "you, or mention the person you'd like to meet."
        )
    if relation is Relation.MENTEES or len(people) == 1:
        return Chosen(tuple(people))
    return Ask(
        f"You have {len(people)} {plural}. Which one would you like to meet?",
        tuple(Option(person.name, (person,)) for person in people),
        (),
    )


async def _ask_who(ports: Ports, ctx: Context) -> Resolution:
    known = await partners(ports, ctx)
    text = "Who would you like to meet? Mention them, like “find a time with @maria next week”."
    if not known:
        return Refuse(text)
    return Ask(
        "Who would you like to meet?", tuple(Option(p.name, (p,)) for p in known), settled=()
    )


def _without_speaker(people: Sequence[Person], ctx: Context) -> tuple[Person, ...]:
    return tuple(person for person in _unique(people) if person.id != ctx.person.id)


def _unique(people: Sequence[Person]) -> list[Person]:
    seen: set[str] = set()
    result = []
    for person in people:
        if person.id not in seen:
            seen.add(person.id)
            result.append(person)
    return result

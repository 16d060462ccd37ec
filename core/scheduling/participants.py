"""Turning "my mentee", "<@U123>" and "@maria" into people, or into a clear question."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from core.commands import Mention, Name, Named, ParticipantRef, Relation, RelationRef
from core.people import Person
from core.scheduling.context import Context, Ports


@dataclass(frozen=True, slots=True)
class Option:
    label: str
    people: tuple[Person, ...]


@dataclass(frozen=True, slots=True)
class Chosen:
    people: tuple[Person, ...]  # never the speaker


@dataclass(frozen=True, slots=True)
class Ask:
    """Several answers fit: ask which, keeping the people already settled."""

    text: str
    options: tuple[Option, ...]
    settled: tuple[Person, ...]


@dataclass(frozen=True, slots=True)
class Refuse:
    text: str


Resolution = Chosen | Ask | Refuse

_NAMES = {
    Relation.MENTEE: ("mentee", "mentees"),
    Relation.MENTOR: ("mentor", "mentors"),
    Relation.PARTNER: ("mentoring partner", "mentoring partners"),
}


async def resolve(ports: Ports, ctx: Context, refs: Sequence[ParticipantRef]) -> Resolution:
    if not refs:
        return await _ask_who(ports, ctx)
    settled: list[Person] = []
    question: Ask | None = None
    for ref in refs:
        found = await _resolve_one(ports, ctx, ref)
        if isinstance(found, Refuse):
            return found
        if isinstance(found, Ask):
            question = question or found
            continue
        settled.extend(found.people)
    people = _without_speaker(settled, ctx)
    if question is not None:
        return Ask(question.text, question.options, people)
    if not people:
        return await _ask_who(ports, ctx)
    return Chosen(people)


async def partners(ports: Ports, ctx: Context) -> list[Person]:
    """The speaker's mentees and mentors in this program, mentees first."""
    mentees = await ports.pairings.mentees_of(ctx.program, ctx.person.id)
    mentors = await ports.pairings.mentors_of(ctx.program, ctx.person.id)
    return _unique([*mentees, *mentors])


async def _resolve_one(ports: Ports, ctx: Context, ref: ParticipantRef) -> Resolution:
    match ref:
        case Mention(user_id):
            person = await ports.people.by_chat_user(ctx.program, user_id)
            if person is None:
                return Refuse(
                    "I don't know the person you mentioned yet. They need to be a member of "
                    "this workspace; ask them to say hello to me first."
                )
            return Chosen((person,))
        case Name(name) | Named(text=name):
            # A plain name is looked up as a typed @name is, for now; partners first,
            # accents and e-mail addresses come with the resolution of issue 19.
            matches = await ports.people.by_name(ctx.program, name)
            if not matches:
                return Refuse(
                    f"I couldn't find anyone called “{name}” in this program. "
                    "Try mentioning them instead."
                )
            if len(matches) > 1:
                return Ask(
                    f"More than one person is called “{name}”. Which one did you mean?",
                    tuple(Option(person.name, (person,)) for person in matches),
                    (),
                )
            return Chosen((matches[0],))
        case RelationRef(relation):
            return await _resolve_relation(ports, ctx, relation)


async def _resolve_relation(ports: Ports, ctx: Context, relation: Relation) -> Resolution:
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
        people = list(await ports.pairings.mentees_of(ctx.program, ctx.person.id))
        singular, plural = _NAMES[Relation.MENTEE]
    elif relation is Relation.MENTOR:
        people = list(await ports.pairings.mentors_of(ctx.program, ctx.person.id))
        singular, plural = _NAMES[Relation.MENTOR]
    else:
        people = await partners(ports, ctx)
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

"""Who a message is about: chat mentions, ``@names``, roles ("my mentee"), e-mail
addresses and names in plain words ("with Sam Carter")."""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.commands import Mention, Name, Named, ParticipantRef, Relation, RelationRef
from core.parsing.names import read_names, tokens
from core.parsing.text import blank

# Slack writes a mention as <@U024BE7LH> or <@U024BE7LH|maria>; the Teams
# adapter rewrites its <at> mentions into the same form before parsing.
_MENTION = re.compile(r"<@([^\s|<>]+)(?:\|[^<>]*)?>")
# An address, not preceded by what could continue it (so the match starts
# where the address does, and the pattern stays linear on long words).
_EMAIL = re.compile(
    r"(?<![\w.+'-])[\w.+'-]{1,64}@[^\W_](?:[\w-]{0,62})(?:\.[^\W_](?:[\w-]{0,62}))+(?![\w-])"
)
# A typed @name, but not the middle of an e-mail address nor "@3pm"; it ends
# on a letter or digit so "@maria." and "@maria's" both give "maria".
_NAME = re.compile(r"(?<![\w@.])@([^\W\d_](?:[\w.-]*\w)?)")
_NOT_PEOPLE = frozenset({"pairtime", "here", "channel", "everyone"})
_RELATION = re.compile(
    r"\b(?:(?:my|our)\s+(?:mentoring\s+|mentorship\s+)?"
    r"(?P<own>mentees|mentee|mentors|mentor|partner|circle|group)"
    r"|(?:the|this)\s+(?:mentoring\s+)?(?P<shared>circle|group))\b",
    re.IGNORECASE,
)
_RELATIONS = {
    "mentee": Relation.MENTEE,
    "mentees": Relation.MENTEES,
    "mentor": Relation.MENTOR,
    # Someone says "my mentors" of the one mentor a programme gives them.
    "mentors": Relation.MENTOR,
    "partner": Relation.PARTNER,
    "circle": Relation.GROUP,
    "group": Relation.GROUP,
}


@dataclass(frozen=True, slots=True)
class People:
    named: tuple[ParticipantRef, ...]
    """Everyone to meet, in the order written, each once."""
    without: tuple[ParticipantRef, ...]
    """Everyone ruled out: "my circle except Sam"."""
    unclear: tuple[str, ...]
    """Words after "with" that name nobody: "the new intern"."""
    rest: str
    """The text without any of them (blanked, the same length)."""


@dataclass(frozen=True, slots=True)
class Cut:
    """Where a long message stops being read, and whether the cap on mentions stopped it."""

    at: int
    by_mentions: bool


def read_up_to(text: str, limit: int, most_mentions: int) -> Cut | None:
    """Where to cut ``text`` so that no more than ``limit`` characters and ``most_mentions``
    chat mentions are read, each mention counting as one character; None when it is read whole.

    A mention is one person named, however long its id: a Teams mention arrives as about 40
    characters, so counting it whole cut a poll of 25 colleagues to its first 24. The cap on
    mentions keeps the people to look up per message as few as a poll can invite.
    """
    if len(text) <= limit:
        return None
    budget, at = limit, 0
    for number, match in enumerate(_MENTION.finditer(text)):
        start, end = match.span()
        if number == most_mentions and start - at < budget:
            return Cut(start, by_mentions=True)
        if start - at >= budget:
            return Cut(at + budget, by_mentions=False)
        budget -= start - at + 1
        at = end
    return None if len(text) - at <= budget else Cut(at + budget, by_mentions=False)


def find_participants(text: str, bot_user_id: str | None) -> tuple[tuple[ParticipantRef, ...], str]:
    """The people named in ``text``, in the order written and each once, and the
    text without them; :func:`find_people` says more."""
    people = find_people(text, bot_user_id)
    return people.named, people.rest


def find_people(text: str, bot_user_id: str | None) -> People:
    """Everyone ``text`` names or rules out.

    The bot's own mention (``bot_user_id``, or a typed ``@pairtime``) is
    removed but is nobody to meet.
    """
    refs: list[tuple[int, int, ParticipantRef | None]] = []
    # Mentions, addresses and typed names all hold an "@": most messages have none.
    for match in _MENTION.finditer(text) if "<@" in text else ():
        user = match.group(1)
        refs.append((*match.span(), None if user == bot_user_id else Mention(user)))
    text = blank(text, [(start, end) for start, end, _ in refs])
    found = len(refs)
    at = "@" in text
    emails = _EMAIL.finditer(text) if at else ()
    refs += [(*match.span(), Named(match.group())) for match in emails]
    text = blank(text, [(start, end) for start, end, _ in refs[found:]])
    found = len(refs)
    for match in _NAME.finditer(text) if at else ():
        name = match.group(1)
        refs.append((*match.span(), None if name.lower() in _NOT_PEOPLE else Name(name)))
    for match in _RELATION.finditer(text):
        word = (match.group("own") or match.group("shared")).lower()
        refs.append((*match.span(), RelationRef(_RELATIONS[word])))
    text = blank(text, [(start, end) for start, end, _ in refs[found:]])

    # Only people are refs for the names grammar: the bot's mention is no one.
    people = [(start, end, ref) for start, end, ref in refs if ref is not None]
    reading = read_names(tokens(text, [(start, end) for start, end, _ in people]))
    named: list[tuple[int, ParticipantRef]] = []
    without: list[tuple[int, ParticipantRef]] = []
    spans = []
    for person in reading.people:
        if person.ref >= 0:
            start, end, ref = people[person.ref]
        else:
            start, end, ref = person.start, person.end, Named(person.text)
            spans.append((start, end))
        (without if person.ruled_out else named).append((start, ref))
    return People(
        _in_order(named),
        _in_order(without),
        reading.unclear,
        blank(text, spans),
    )


def _in_order(found: list[tuple[int, ParticipantRef]]) -> tuple[ParticipantRef, ...]:
    people: list[ParticipantRef] = []
    seen: set[object] = set()
    for _, ref in sorted(found, key=lambda item: item[0]):
        key = ref.text.casefold() if isinstance(ref, Named) else ref
        if key not in seen:
            seen.add(key)
            people.append(ref)
    return tuple(people)

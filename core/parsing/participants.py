"""Who a message is about: chat mentions, plain ``@names`` and roles such as "my mentee"."""

from __future__ import annotations

import re

from core.commands import Mention, Name, ParticipantRef, Relation, RelationRef
from core.parsing.text import blank

# Slack writes a mention as <@U024BE7LH> or <@U024BE7LH|maria>; the Teams
# adapter rewrites its <at> mentions into the same form before parsing.
_MENTION = re.compile(r"<@([^\s|<>]+)(?:\|[^<>]*)?>")
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


def find_participants(text: str, bot_user_id: str | None) -> tuple[tuple[ParticipantRef, ...], str]:
    """The people named in ``text``, in the order written and each once, and the
    text without them.

    The bot's own mention (``bot_user_id``, or a typed ``@pairtime``) is
    removed but is nobody to meet.
    """
    found: list[tuple[int, ParticipantRef]] = []
    spans: list[tuple[int, int]] = []
    for match in _MENTION.finditer(text):
        spans.append(match.span())
        if match.group(1) != bot_user_id:
            found.append((match.start(), Mention(match.group(1))))
    without_mentions = blank(text, spans)
    spans = []
    for match in _NAME.finditer(without_mentions):
        spans.append(match.span())
        if match.group(1).lower() not in _NOT_PEOPLE:
            found.append((match.start(), Name(match.group(1))))
    for match in _RELATION.finditer(without_mentions):
        spans.append(match.span())
        word = (match.group("own") or match.group("shared")).lower()
        found.append((match.start(), RelationRef(_RELATIONS[word])))
    people: list[ParticipantRef] = []
    for _, ref in sorted(found, key=lambda item: item[0]):
        if ref not in people:
            people.append(ref)
    return tuple(people), blank(without_mentions, spans)

"""People named in plain words: "with Sam", "Sam Carter and I", "my mentee and Jonas".

A message is split into tokens once, and read left to right. A run of name
words (any word not in :data:`~core.parsing.vocabulary.NOT_NAMES`, up to
four, Title Case kept together) is a person when something says so:

- it follows a word that introduces people ("with", "meet", "invite",
  "between", "w/"), or, for weaker words ("for", "to", "ask", "book"), it is
  written with a capital;
- it is joined by "and", "or", a comma, "&", "+" or "/" to someone already
  named, to a mention, to a role ("my mentee") or to the speaker ("Sam and I");
- it is asked about: "is Sam free", "can Sam and Priya meet".

People after "without", "except", "not (with)", "minus", "other than"...
are ruled out rather than invited. What follows "with" but names nobody we
can look up ("with the new intern", "with Sam's manager") is reported, so the
answer can ask who was meant instead of dropping them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

from core.parsing.vocabulary import NAME_OR_MONTH, NAME_PARTICLES, NOT_NAMES

_TOKEN = re.compile(
    r"(?P<with>\bw/)(?!\w)"
    r"|(?P<word>\b(?i:dr|mrs|mr|ms|mx|prof)\.(?=\s)|[^\W\d_]+(?:['.-][^\W\d_]+)*)"
    r"|(?P<num>[0-9][\w:./-]*)"
    r"|(?P<join>[&+/,])"
    r"|(?P<stop>[^\w\s])"
)
_STRONG = frozenset(
    {"with", "w/", "meet", "meeting", "see", "invite", "inviting", "include", "including", "ping"}
    | {"poll", "cc", "between", "plus"}
)
_WEAK = frozenset(
    {"for", "to", "ask", "tell", "book", "schedule", "find", "arrange", "organise", "organize"}
)
_RULING_OUT = frozenset({"without", "except", "excluding", "exclude", "minus", "besides", "sans"})
_RULING_OUT_PAIRS = frozenset({("apart", "from"), ("other", "than"), ("leave", "out")})
_EVERYONE = frozenset({"everyone", "everybody", "all", "anyone", "anybody"})
_JOINS = frozenset({"and", "or", "&", "+", "/", ","})
_SPEAKER = frozenset({"i", "me", "myself", "us", "we"})
_ASKING = frozenset({"is", "are", "can", "could", "will", "would", "does", "do", "did", "shall"})
_AVAILABLE = frozenset(
    {"free", "around", "available", "busy", "have", "be", "do", "make", "meet", "join", "got"}
)
_DETERMINERS = frozenset(
    {"the", "a", "an", "some", "our", "their", "his", "her", "your", "my", "this", "that"}
)
_OWN_TIME = frozenset({"calendar", "availability", "schedule", "diary", "time", "free", "cal"})
_CONTRACTIONS = ("t", "m", "re", "ll", "d", "ve")
_LONGEST_NAME = 4  # words
_LONGEST_UNCLEAR = 4  # words reported after "with the ..."
_LONGEST_LIST = 8  # names looked through for the "and I" that ends a list


# Not frozen: a frozen dataclass's __init__ costs four times as much, and every word of
# every message becomes a token. Nothing changes one once built.
@dataclass(slots=True)
class Token:
    kind: str  # "word", "with" ("w/"), "num", "join", "stop" or "ref"
    text: str
    start: int
    end: int
    ref: int = -1  # for "ref": the index of the person already found there
    lower: str = ""  # the text in lower case, computed once

    @classmethod
    def of(cls, kind: str, text: str, start: int, end: int, ref: int = -1) -> Token:
        return cls(kind, text, start, end, ref, text.lower())


@dataclass(frozen=True, slots=True)
class Found:
    """A name (``text`` with ``start``), or a person already found (``ref``), and
    whether the message rules them out."""

    start: int
    end: int
    text: str
    ruled_out: bool
    ref: int = -1


@dataclass(frozen=True, slots=True)
class Reading:
    people: tuple[Found, ...]
    unclear: tuple[str, ...]
    """Words after "with" that name nobody we could look up."""


def tokens(text: str, refs: list[tuple[int, int]]) -> list[Token]:
    """The tokens of ``text``, in which ``refs`` (start, end) were blanked; each ref
    becomes one "ref" token at its place."""
    found = []
    for match in _TOKEN.finditer(text.replace("\u2019", "'")):  # the same length
        written = match.group()
        start, end = match.span()
        found.append(Token(match.lastgroup or "stop", written, start, end, -1, written.lower()))
    found += [Token.of("ref", "", start, end, index) for index, (start, end) in enumerate(refs)]
    return sorted(found, key=lambda token: token.start)


def read_names(items: list[Token]) -> Reading:
    """The people named in ``items``, and the refs among them, with what rules them out."""
    return _Reader(items).read()


class _Reader:
    """One left-to-right reading of a message's tokens."""

    def __init__(self, items: list[Token]) -> None:
        self.items = items
        self.people: list[Found] = []
        self.unclear: list[str] = []

    def read(self) -> Reading:
        items = self.items
        index = 0
        while index < len(items):
            token = items[index]
            if token.kind == "ref":
                self._add(index, index, "", ref=token.ref)
                index = self._follow_list(index + 1, self.people[-1].ruled_out)
                continue
            if token.lower in _SPEAKER and _is_join_at(items, index + 1):
                index = self._follow_list(
                    index + 1, _ruled_out_before(items, index)
                )  # "me and Sam"
                continue
            introduced = _introduces(items, index)
            if introduced is not None:
                following = self._introduced(index + 1, capital=introduced == "weak")
                if following is not None:
                    index = following
                    continue
                if introduced == "strong" and token.lower in ("with", "w/"):
                    self._describe(index + 1)
            name = _name_at(items, index, capital=False)
            if name is not None and self._is_person(index, name):
                end, text, _ = name
                self._add(index, end, text)
                index = self._follow_list(end + 1, self.people[-1].ruled_out)
                continue
            index += 1
        return Reading(tuple(self.people), tuple(self.unclear))

    def _is_person(self, index: int, name: tuple[int, str, bool]) -> bool:
        end, _, possessive = name
        items = self.items
        if _joins_someone(items, end + 1) or _asked_about(items, index):
            return True
        if possessive and _is_own_time(items, end):
            return True  # "Sam's calendar"
        # "... with Sam tomorrow and Priya": once someone is named, "and" names more.
        before = items[index - 1].lower if index > 0 else ""
        return bool(self.people) and before in ("and", "&", "+", "plus") and not possessive

    def _introduced(self, index: int, *, capital: bool) -> int | None:
        """Read the name an introducing word points at; the index after it, or None."""
        name = _name_at(self.items, index, capital=capital)
        if name is None:
            return None
        end, text, possessive = name
        if possessive and not _is_own_time(self.items, end):
            # "with Sam's manager": someone, but not Sam.
            self.unclear.append(_words(self.items, index, _unknown_words_end(self.items, end + 1)))
            return end + 1
        self._add(index, end, text)
        return self._follow_list(end + 1, self.people[-1].ruled_out)

    def _add(self, start: int, end: int, text: str, *, ref: int = -1) -> None:
        items = self.items
        ruled_out = _ruled_out_before(items, start)
        self.people.append(Found(items[start].start, items[end].end, text, ruled_out, ref))

    def _describe(self, index: int) -> None:
        described = _described(self.items, index)
        if described is not None:
            self.unclear.append(described)

    def _follow_list(self, index: int, ruled_out: bool) -> int:
        """Read "and Jonas", ", @maria", "& me" after a person; the index after the list."""
        items = self.items
        while index + 1 < len(items) and _is_join(items[index]):
            following = index + 1
            if items[following].lower == "and":
                following += 1  # "Sam, and Jonas"
            if following < len(items) and items[following].lower in ("with", "also"):
                following += 1
            if following >= len(items):
                break
            token = items[following]
            if token.kind == "ref":
                self.people.append(Found(token.start, token.end, "", ruled_out, token.ref))
                index = following + 1
                continue
            if token.lower in _SPEAKER:
                index = following + 1
                continue
            name = _name_at(items, following, capital=False)
            if name is None:
                if items[index].text != ",":
                    self._describe(following)  # "Sam and his manager"
                break
            if items[index].text == "," and not _listed(items, following, name[0]):
                break
            end, text, possessive = name
            if possessive and not _is_own_time(items, end):
                self.unclear.append(_words(items, following, _unknown_words_end(items, end + 1)))
                return end + 1
            self.people.append(Found(token.start, items[end].end, text, ruled_out))
            index = end + 1
        return index


def _introduces(items: list[Token], index: int) -> str | None:
    """ "strong" or "weak" if ``items[index]`` introduces people, else None."""
    token = items[index]
    word = token.lower
    if token.kind == "with" or word in _RULING_OUT:
        return "strong"
    if index + 1 < len(items) and (word, items[index + 1].lower) in _RULING_OUT_PAIRS:
        return None  # the pair's second word introduces
    if index > 0 and (items[index - 1].lower, word) in _RULING_OUT_PAIRS:
        return "strong"
    if (
        word == "but"
        and index > 0
        and (items[index - 1].lower in _EVERYONE or items[index - 1].kind == "ref")
    ):
        return "strong"
    if token.kind != "word":
        return None
    if word in _STRONG:
        return "strong"
    if word in _WEAK or word == "not":
        return "weak"
    return None


def _ruled_out_before(items: list[Token], index: int) -> bool:
    """Whether the words just before ``items[index]`` rule a person out."""
    before = [token.lower for token in items[max(0, index - 3) : index]]
    if any(word in _RULING_OUT for word in before):
        return True
    if any(pair in _RULING_OUT_PAIRS for pair in pairwise(before)):
        return True
    if before[-1:] == ["not"] or before[-2:] == ["not", "with"] or before[-2:] == ["but", "not"]:
        return True
    return bool(before and before[-1] == "but" and len(before) > 1 and before[-2] in _EVERYONE)


def _name_at(items: list[Token], index: int, *, capital: bool) -> tuple[int, str, bool] | None:
    """The name starting at ``items[index]``: (index of its last token, its text,
    whether it ends in "'s"), or None. ``capital``: it must be written with one."""
    if index >= len(items) or not _name_word(items[index], first=True):
        return None
    first = items[index]
    titled = first.text[0].isupper()
    if capital and not titled:
        return None
    last = index
    count = 1
    while count < _LONGEST_NAME and not _possessive(items[last].text):
        following = last + 1
        if following >= len(items):
            break
        token = items[following]
        if (
            token.lower in NAME_PARTICLES
            and following + 1 < len(items)
            and _name_word(items[following + 1], first=False)
            and items[following + 1].start - token.end <= 1
        ):
            last, count = following + 1, count + 2
            continue
        if not _name_word(token, first=False) or (titled and not token.text[0].isupper()):
            break
        if token.start - items[last].end > 1:
            break  # something was blanked between them: not one name
        last, count = following, count + 1
    text = " ".join(token.text for token in items[index : last + 1])
    possessive = _possessive(text)
    if possessive:
        text = text[:-2]
    return last, text, possessive


def _name_word(token: Token, *, first: bool) -> bool:
    if token.kind != "word" or len(token.text) < 2:
        return False
    word = token.lower
    base = word[:-2] if _possessive(word) else word
    if "'" in base:
        tail = base.rsplit("'", 1)[-1]
        if tail in _CONTRACTIONS:
            return False
    if base in NAME_OR_MONTH:
        return first and token.text[0].isupper()
    return base not in NOT_NAMES


def _possessive(text: str) -> bool:
    return text.lower().endswith("'s")


def _is_own_time(items: list[Token], end: int) -> bool:
    """Whether "Sam's" is followed by words about Sam's own time ("Sam's calendar")."""
    return end + 1 < len(items) and items[end + 1].lower in _OWN_TIME


def _listed(items: list[Token], start: int, end: int) -> bool:
    """Whether a name after a comma is one of a list: written with a capital, or
    followed by another join or by the end of the sentence ("with sam, priya and
    jonas"), not by more words ("with sam, avoid mondays")."""
    if items[start].text[0].isupper():
        return True
    following = end + 1
    return following >= len(items) or _is_join(items[following]) or items[following].kind == "stop"


def _is_join(token: Token) -> bool:
    return token.lower in _JOINS


def _is_join_at(items: list[Token], index: int) -> bool:
    return index < len(items) and _is_join(items[index])


def _joins_someone(items: list[Token], index: int) -> bool:
    """Whether ``items[index:]`` is "and I", "& my mentee", ", <@U1>", or another
    name so joined ("Priya, Sam and I"): a list that ends with someone certain."""
    for _ in range(_LONGEST_LIST):
        if index + 1 >= len(items) or not _is_join(items[index]):
            return False
        following = items[index + 1]
        if following.kind == "ref" or following.lower in _SPEAKER:
            return True
        name = _name_at(items, index + 1, capital=False)
        if name is None:
            return False
        index = name[0] + 1
    return False


def _asked_about(items: list[Token], index: int) -> bool:
    """Whether the name at ``index`` is asked about: "is Sam free", "can Sam and Jonas meet"."""
    if index == 0 or items[index - 1].lower not in _ASKING:
        return False
    position = index
    while position < len(items) and position - index < 2 * _LONGEST_NAME + 4:
        word = items[position].lower
        if word in _AVAILABLE:
            return True
        if items[position].kind == "stop":
            return False
        position += 1
    return False


def _described(items: list[Token], index: int) -> str | None:
    """ "the new intern" after "with": a determiner and words that are no vocabulary."""
    if index >= len(items) or items[index].lower not in _DETERMINERS:
        return None
    end = _unknown_words_end(items, index + 1)
    return None if end == index + 1 else _words(items, index, end)


def _unknown_words_end(items: list[Token], index: int) -> int:
    """The index after the words from ``index`` on that are no vocabulary (a few at most)."""
    end = index
    while (
        end < len(items)
        and end - index < _LONGEST_UNCLEAR
        and items[end].kind == "word"
        and items[end].lower not in NOT_NAMES
    ):
        end += 1
    return end


def _words(items: list[Token], start: int, end: int) -> str:
    return " ".join(token.text for token in items[start:end])

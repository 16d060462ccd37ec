"""What a message rules out: "not Monday", "anything but mornings", "Friday doesn't work".

A negation runs from its cue to the end of its clause (a comma, a full stop,
"but", "then"...): "next week except Monday and Tuesday, ideally mornings"
rules out the two days and keeps the mornings. A few cues say that a time
is bad rather than asking not to use it ("I'm away", "is out", "doesn't
work"); they rule out what follows them in the clause, or, when nothing
that looks like a time follows, the few words just before them ("Friday's
out"). "Not before 10", "no later than Friday" and "not more than an hour"
are limits, not negations, and are left to the grammar that reads them.

One regular expression finds every cue and boundary in a single pass, so
the work is linear in the length of the message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.parsing.text import blank

# Words that say when: a negated clause without any is about something else
# ("not sure", "don't mind").
_WHEN = re.compile(
    r"\b(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*|\b(?:today|tonight|tomorrow|week|weekends?|month"
    r"|mornings?|afternoons?|evenings?|lunch\w*|noon|midday|january|february|march|april|may"
    r"|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sep"
    r"|sept|oct|nov|dec|early|late|end)\b|[0-9]"
)
_TARGET = (
    r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*|today|tonight|tomorrow|this|next|early|late"
    r"|mornings?|afternoons?|evenings?|lunch|weekends?|[0-9]|the\s+[0-9]|before|after)\b"
)
# "Not before 10" and "not more than an hour" are limits, read elsewhere.
_NOT_A_LIMIT = (
    r"(?!\s+(?:before|after|until|till|later|earlier|sooner|more|longer|less|fewer|sure|only"
    r"|just|yet|much|too\s+long)\b)"
)
_STATE = (
    r"(?:busy|away|off|out|ooo|unavailable|not\s+(?:available|free|around|in)|booked(?:\s+up)?"
    r"|on\s+(?:leave|holiday|vacation|pto)|travell?ing|tied\s+up|slammed|bad|no\s+good"
    r"|not\s+(?:good|great|ideal|possible|an\s+option)|(?:a\s+)?no[\s-]?go|off[\s-]limits|taken"
    r"|full|blocked|packed|impossible|out\s+of\s+the\s+question)"
)
_MARKS = re.compile(
    # Ruling out what follows, or the words just before (see _either).
    r"(?P<either>\b(?:i'?m|im|i\s+am|we'?re|we\s+are|(?:i|we|they|he|she)(?:'ll|\s+will)\s+be"
    r"|(?:it|that|this|he|she|they)(?:'s|'re|\s+is|\s+are)|is|are|'s)\s+" + _STATE + r"\b"
    r"|\b(?:(?:i|we|they|he|she)\s+)?(?:won'?t|will\s+not|can'?t|cannot)\s+be\s+"
    r"(?:around|available|free|in|there|here|able\s+to\s+(?:do|make|meet))\b"
    r"|\b(?:doesn'?t|don'?t|won'?t|wont|will\s+not|does\s+not|do\s+not|isn'?t\s+going\s+to)"
    r"\s+(?:work|suit|do)\b"
    r"|\b(?:isn'?t|aren'?t|is\s+not|are\s+not|isnt|arent)\s+(?:good|great|ok|okay|possible"
    r"|free|available|ideal)\b"
    r"|\b(?:can'?t|cannot|can\s+not|couldn'?t|could\s+not)\s+(?:do|make|manage|attend|meet|join)\b"
    r"|\b(?:ooo|out\s+of\s+(?:the\s+)?office|on\s+(?:leave|holiday|vacation|pto))\b)"
    # Ruling out what follows.
    r"|(?P<cue>\bexcept(?:\s+for|\s+on)?|\bexcluding|\bexclude|\bexcepting|\bapart\s+from"
    r"|\bother\s+than|\bbesides|\bbut\s+not" + _NOT_A_LIMIT + r"|\bsave\s+for|\bwithout"
    r"|\boutside(?:\s+of)?"
    r"|\bavoid(?:ing)?|\bskip(?:ping)?|\binstead\s+of|\brather\s+than|\bnever"
    r"|\b(?:anything|everything|all|any\s+(?:day|time|other\s+(?:day|time)|weekday|slot))"
    r"\s+(?:but|except|other\s+than)"
    r"|\b(?:leave|leaving|keep|keeping|rule|ruling)\s+out"
    r"|\b(?:do\s+not|don'?t|dont)(?!\s+(?:mind|care|know|think|worry|need|have\s+to|really))"
    r"|(?<!\bor\s)\bnot" + _NOT_A_LIMIT + r""
    r"|\bno\s+(?:(?:meetings?|calls?|sessions?|slots?|times?|bookings?|1:1s?|syncs?)\s+"
    r"(?:(?:on|in|during|at|for)\s+)?)?(?=" + _TARGET + r")"
    r"|\bno\s+(?=(?:polls?|surveys?|votes?|doodle)\b))\b"
    # Where a clause ends.
    r"|(?P<boundary>[,;!?()]|\.(?!\S)|\s-\s"
    r"|\b(?:but|however|instead|though|although|otherwise|then|so|because|since|whereas|unless"
    r"|if|just|ideally|preferably)\b)"
)
# A word (or the stem of one) that every cue above holds, for a cheap test that
# a message rules nothing out; boundaries alone split nothing.
_CUE_HINT = re.compile(
    r"busy|away|off|out|ooo|unavailable|not|booked|leave|holiday|vacation|pto|travel|tied"
    r"|slammed|bad|no[\s-]*go|taken|full|blocked|packed|impossible|won|will|can|could"
    r"|work|suit|do\b|isn|aren|except|exclud|apart|other|besides|but|save|without|avoid"
    r"|skip|instead|rather|never|don|no\s"
)
_BACKWARD_WORDS = 3
_BACKWARD_REACH = 60  # characters: enough for three words, and bounded
_WORD = re.compile(r"\S+")


@dataclass(frozen=True, slots=True)
class Negations:
    kept: str
    """The message without what it rules out (same length, blanked)."""
    clauses: tuple[str, ...]
    """Each ruled-out phrase, without its cue, in the order written."""


def split_negations(text: str) -> Negations:
    """``text`` (normalised) split into what it asks for and what it rules out."""
    if _CUE_HINT.search(text) is None:
        return Negations(text, ())
    marks = list(_MARKS.finditer(text))
    if not any(mark.lastgroup != "boundary" for mark in marks):
        return Negations(text, ())
    ends = _clause_ends(marks, len(text))
    spans: list[tuple[int, int]] = []
    clauses: list[str] = []
    clause_start = 0
    open_until = -1  # the end of the clause a cue already rules out
    timeless_from = len(text)  # no word saying when from here to the clause's end
    for index, mark in enumerate(marks):
        start, end = mark.span()
        if mark.lastgroup == "boundary":
            clause_start = end
            timeless_from = len(text)
            continue
        spans.append((start, end))
        if start < open_until:
            continue  # "not Monday or not Tuesday": one clause, already ruled out
        clause_end = ends[index]
        ruled = (end, clause_end)
        if mark.lastgroup == "either" and (
            end >= timeless_from or not _WHEN.search(text, end, clause_end)
        ):
            timeless_from = min(timeless_from, end) if end < clause_end else timeless_from
            ruled = (_words_before(text, clause_start, start), start)
        else:
            open_until = clause_end
        if ruled[0] < ruled[1]:
            spans.append(ruled)
            clauses.append(text[ruled[0] : ruled[1]].strip())
    return Negations(blank(text, spans), tuple(clause for clause in clauses if clause))


def _clause_ends(marks: list[re.Match[str]], length: int) -> list[int]:
    """For each mark, where its clause ends: the start of the next boundary."""
    ends = [length] * len(marks)
    following = length
    for index in range(len(marks) - 1, -1, -1):
        ends[index] = following
        if marks[index].lastgroup == "boundary":
            following = marks[index].start()
    return ends


def _words_before(text: str, clause_start: int, position: int) -> int:
    """Where the last few words before ``position`` (within the clause) begin."""
    words = list(_WORD.finditer(text, max(clause_start, position - _BACKWARD_REACH), position))
    if not words:
        return position
    return words[max(0, len(words) - _BACKWARD_WORDS)].start()

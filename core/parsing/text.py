"""The message as the grammar reads it: lower case, plain punctuation, no greetings."""

from __future__ import annotations

import re

PLACEHOLDER_OPEN = "\ue000"
PLACEHOLDER_CLOSE = "\ue001"
"""Private-use characters around the index of a date already read (see ``dates``)."""
DAY_OPEN = "\ue002"
DAY_CLOSE = "\ue003"
"""The same around the index of a day phrase (see ``windows``)."""

READ_LIMIT = 1000
"""The parser reads this many characters of a message and ignores the rest, so a
40,000-character message costs no more than a long sentence."""

_PLAIN = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        PLACEHOLDER_OPEN: " ",
        PLACEHOLDER_CLOSE: " ",
        DAY_OPEN: " ",
        DAY_CLOSE: " ",
    }
)
# "Good morning" greets; it does not ask for a morning slot. A message that
# opens with a bare "Morning!" greets as well.
_GREETING = re.compile(
    r"\bgood\s*(?:morning|afternoon|evening|night|day)\b"
    r"|^[^a-z0-9]*(?:morning|afternoon|evening)\b(?=\s*(?:[,!.;:]|$))"
)
_SPACES = re.compile(r"\s+")


def starting_with(first: str, pattern: str) -> re.Pattern[str]:
    """``pattern`` compiled to be tried only where a character of the class ``first`` is.

    Every match of ``pattern`` must start with one (``tests/unit/parsing/test_hints.py``
    checks that the matches are the same). Python's engine otherwise runs each of a big
    alternation's branches at every position of a message, and that was most of its cost.
    """
    return re.compile(f"(?=[{first}])(?:{pattern})")


def normalize(text: str) -> str:
    """Lower case, typographic quotes and dashes made plain, greetings removed, spaces single."""
    plain = text.translate(_PLAIN).lower()
    return _SPACES.sub(" ", _GREETING.sub(" ", plain)).strip()


def blank(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with each span overwritten by spaces, so later patterns do not read it again.

    The length is kept, so positions found before and after blanking agree;
    the words on either side may then read as one phrase, as in "Thursday at
    3pm next week", where "Thursday next week" is meant.
    """
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)

"""Finding people by the words typed: "Sam", "sam carter", "José" as "jose", an e-mail.

A name matches a person's full name, first name, chat handle (Slack's display name) or
e-mail address, compared folded: accents dropped, case folded, spaces collapsed, a leading
``@`` ignored. Matching is exact on those keys ("Sam" is not "Samantha"), so a typed name
never silently picks a person it merely resembles; several people with one name are all
returned, for the speaker to choose.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence

from core.people import Listing, Person

# Letters that Unicode does not decompose into a base letter and an accent.
_PLAIN = str.maketrans(
    {"ł": "l", "ø": "o", "đ": "d", "ħ": "h", "\u0131": "i", "æ": "ae", "œ": "oe"}
)
_PUNCTUATION = " .,;:!?'\"()\u201c\u201d\u2018\u2019"


def fold(text: str) -> str:
    """``text`` as names are compared: no accents, case folded, single spaces."""
    if text.isascii():  # most names: nothing to decompose (and ten times faster)
        plain = text.lower()
    else:
        decomposed = unicodedata.normalize("NFKD", text)
        bare = "".join(c for c in decomposed if not unicodedata.combining(c))
        plain = bare.casefold().translate(_PLAIN)
    return " ".join(plain.split()).lstrip("@").strip(_PUNCTUATION)


def keys(person: Person, handle: str | None = None) -> frozenset[str]:
    """Every folded way ``person`` may be named."""
    found = {fold(person.name)}
    first = person.name.split(maxsplit=1)
    if first:
        found.add(fold(first[0]))
    if handle:
        found.add(fold(handle))
    if person.email:
        found.add(fold(person.email))
    found.discard("")
    return frozenset(found)


def matching(text: str, listings: Iterable[Listing]) -> list[Person]:
    """The people ``text`` names, each once, in the order listed."""
    wanted = fold(text)
    if not wanted:
        return []
    found: dict[str, Person] = {}
    for entry in listings:
        if wanted in keys(entry.person, entry.handle):
            found.setdefault(entry.person.id, entry.person)
    return list(found.values())


def labels(people: Sequence[Person], handles: dict[str, str | None]) -> list[str]:
    """A button label per person: the name, and the handle or e-mail where two share it."""
    counts: dict[str, int] = {}
    for person in people:
        counts[fold(person.name)] = counts.get(fold(person.name), 0) + 1
    result = []
    for person in people:
        if counts[fold(person.name)] == 1:
            result.append(person.name)
            continue
        extra = handles.get(person.id) or person.email
        result.append(f"{person.name} ({extra})" if extra else person.name)
    return result

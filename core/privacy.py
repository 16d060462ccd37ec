"""What Pairtime shows of an account identifier: enough for its owner to recognise it.

Account identifiers that came with a credential (an Apple ID, a CalDAV user name, an
organisation's service-account address) are sealed at rest like the secrets; statuses
show them masked, so a screen share or a shoulder never reads a whole address.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "•••"
# What stands in, in words kept after a person is forgotten, for each word that named them.
FORMER = "a former participant"


def masked(identifier: str) -> str:
    """``maria@icloud.com`` → ``m•••@icloud.com``; a name without a domain keeps its first
    character only. The domain stays: it says which account it is without naming the
    person."""
    local, at, domain = identifier.strip().rpartition("@")
    if not at:
        local, domain = identifier.strip(), ""
    return f"{local[:1]}{MASK}{at}{domain}" if local else MASK


def scrubbed(text: str, names: Iterable[str]) -> str:
    """``text`` with every ``names`` (a forgotten person's name, email, handles, chat ids)
    replaced by :data:`FORMER`, ignoring case, as whole words ("Maria" is not in
    "Mariachi"); longest first, so a full name goes whole."""
    for name in sorted({n.strip() for n in names if n and n.strip()}, key=len, reverse=True):
        text = _whole(name).sub(FORMER, text)
    return text


def mentions(text: str, names: Iterable[str]) -> bool:
    """Whether ``text`` holds any of ``names`` as a whole word, ignoring case (so that
    forgetting Sam leaves Samantha's queued work alone)."""
    return any(_whole(name).search(text) for name in names if name and name.strip())


def _whole(name: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(name.strip())}(?!\w)", re.IGNORECASE)

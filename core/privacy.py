"""What Pairtime shows of an account identifier: enough for its owner to recognise it.

Account identifiers that came with a credential (an Apple ID, a CalDAV user name, an
organisation's service-account address) are sealed at rest like the secrets; statuses
show them masked, so a screen share or a shoulder never reads a whole address.
"""

from __future__ import annotations

MASK = "•••"


def masked(identifier: str) -> str:
    """``maria@icloud.com`` → ``m•••@icloud.com``; a name without a domain keeps its first
    character only. The domain stays: it says which account it is without naming the
    person."""
    local, at, domain = identifier.strip().rpartition("@")
    if not at:
        local, domain = identifier.strip(), ""
    return f"{local[:1]}{MASK}{at}{domain}" if local else MASK

"""The audit log as an admin reads it: what they may see, newest first.

A program-wide admin reads every entry; an admin of some tracks reads those tracks'
entries only (not the program's own rules, admins or other tracks)."""

from __future__ import annotations

from core.admin.access import Scope
from core.admin.ports import AdminPorts
from core.admin.tracks import find_track
from core.audit import AuditEntry

MOST = 200


async def audit_log(
    ports: AdminPorts, scope: Scope, *, track: str | None = None, limit: int = 100
) -> list[AuditEntry]:
    """The latest ``limit`` entries ``scope`` may read; of one track when ``track`` names
    one (a name or an id)."""
    limit = max(1, min(limit, MOST))
    if track is not None:
        found = await find_track(ports, scope, track)
        return list(await ports.audit.recent(scope.program, [found.id], limit=limit))
    return list(await ports.audit.recent(scope.program, scope.tracks, limit=limit))

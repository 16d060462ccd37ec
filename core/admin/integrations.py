"""The organisation's connections as the console's cards: only a program-wide admin
disables one, and the audit log says who did."""

from __future__ import annotations

from core.admin.access import Scope
from core.admin.organisation import OrganisationCard, cards, disconnect
from core.admin.ports import AdminPorts
from core.audit import Change
from core.organisation import OrganisationConnection, OrgProvider
from core.ports import OrganisationAuthority, Organisations


async def integration_cards(organisations: Organisations, scope: Scope) -> list[OrganisationCard]:
    scope.check(None)
    return await cards(organisations, scope.program)


async def disable_integration(
    ports: AdminPorts,
    scope: Scope,
    organisations: Organisations,
    authority: OrganisationAuthority,
    provider: OrgProvider,
) -> OrganisationConnection | None:
    """Delete the connection and its secret (None: there was none), recorded."""
    scope.check(None)
    removed = await disconnect(organisations, authority, scope.program, provider)
    if removed is not None:
        change = Change(f"integration {provider.label}", removed.name, None)
        await ports.audit.record(scope.program, scope.actor, [change], ports.clock.now())
    return removed

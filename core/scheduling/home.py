"""A person's home: their calendar, their next meetings, their partners, how to ask.

Slack shows it as the App Home tab; any chat surface can show the same view. Its meetings
are "my meetings" (``meetings.meeting_list``), each with the buttons that fit it now.
"""

from __future__ import annotations

from core.people import identity_in
from core.scheduling.connections import status_view
from core.scheduling.console import may_open_console
from core.scheduling.context import Context, Ports
from core.scheduling.info import help_view, settings_view
from core.scheduling.meetings import meeting_list
from core.views import HomeView, PartnerView


async def home_view(ports: Ports, ctx: Context) -> HomeView:
    """The speaker's home. Its calendar status carries no connect links (they are
    single-use): a surface offers a button that sends fresh ones instead."""
    status = await status_view(ports, ctx, links=False)
    upcoming = await meeting_list(ports, ctx.person, ctx.zone)
    partners: list[PartnerView] = []
    for role, people in (
        ("your mentee", await ports.pairings.mentees_of(ctx.program, ctx.person.id)),
        ("your mentor", await ports.pairings.mentors_of(ctx.program, ctx.person.id)),
    ):
        for person in people:
            identity = identity_in(ctx.program, await ports.people.identities(person.id))
            partners.append(PartnerView(person.name, role, identity.user_id if identity else None))
    admin = await ports.programs.is_admin(ctx.program, ctx.person.id)
    rules = settings_view(
        await ports.programs.settings(ctx.program), can_edit=True, available=ports.links.available
    )
    return HomeView(
        zone=ctx.zone,
        status=status,
        meetings=upcoming,
        partners=tuple(partners),
        help=help_view(),
        rules=rules if admin else None,
        console=await may_open_console(ports, ctx),
    )

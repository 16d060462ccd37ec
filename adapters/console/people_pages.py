"""People and their calendar status (with reminders to connect), the program's admins, and
the organisation's connections: pages over ``core.admin.people``, ``admins`` and
``organisation``."""

from __future__ import annotations

from aiohttp import web

from adapters.console.http import PATH, Admin, csv_file, deps, page, see_other, signed_in, text
from adapters.console.rules_pages import when, zone_of
from core.admin import admins as admin_cases
from core.admin.integrations import disable_integration, integration_cards
from core.admin.people import CalendarState, people, remind_to_connect
from core.admin.tracks import tracks
from core.audit import Change
from core.errors import InvalidInput, NotAllowed, RosterError
from core.organisation import OrgProvider

FILTERS = {
    "not-connected": CalendarState.NOT_CONNECTED,
    "needs-reconnecting": CalendarState.NEEDS_RECONNECT,
}


async def people_page(request: web.Request, admin: Admin) -> web.StreamResponse:
    chosen = request.query.getall("show", [])
    only = frozenset(FILTERS[c] for c in chosen if c in FILTERS)
    console = deps(request)
    rows = await people(console.admin, admin.scope, console.people, only=only)
    zone = zone_of(admin)
    if request.match_info.get("csv"):
        return csv_file(
            "people",
            ["Name", "Email", "Roles", "Tracks", "Calendar", "Service", "Last read"],
            [
                [
                    row.person.name,
                    row.person.email or "",
                    ", ".join(row.roles),
                    ", ".join(row.tracks),
                    row.state.label,
                    row.service or "",
                    when(row.last_read, zone) if row.last_read else "never",
                ]
                for row in rows
            ],
        )
    return page(
        request,
        "people.html",
        admin=admin,
        title="People",
        rows=[(row, when(row.last_read, zone) if row.last_read else "never") for row in rows],
        filters=FILTERS,
        chosen=chosen,
        states=CalendarState,
        saved=_reminded(request) or _forgotten(request),
        error="",
        may_forget=admin.scope.program_wide,
    )


def _reminded(request: web.Request) -> str:
    """What the last reminder did, from the counts in the address (never text from it)."""
    if request.query.get("none"):
        return "Choose the people to remind first."
    try:
        sent, already, skipped = (int(request.query.get(k, "")) for k in REMINDED)
    except ValueError:
        return ""
    parts = [f"Reminders sent to {sent} person(s)."]
    if already:
        parts.append(f"{already} had one today already.")
    if skipped:
        parts.append(f"{skipped} can be read already and were not reminded.")
    return " ".join(parts)


REMINDED = ("sent", "already", "skipped")


async def remind(request: web.Request, admin: Admin) -> web.StreamResponse:
    form = await request.post()
    chosen = [v for v in form.getall("person", []) if isinstance(v, str)]
    console = deps(request)
    try:
        done = await remind_to_connect(console.admin, admin.scope, console.people, chosen)
    except NotAllowed:  # nobody chosen: said on the page
        raise see_other(f"{PATH}/people", none="1") from None
    counts = (done.sent, done.already, done.skipped)
    raise see_other(f"{PATH}/people", **{k: str(n) for k, n in zip(REMINDED, counts, strict=True)})


async def admins_page(request: web.Request, admin: Admin, *, error: str = "") -> web.Response:
    admin.scope.check(None)
    ports = deps(request).admin
    return page(
        request,
        "admins.html",
        admin=admin,
        status=400 if error else 200,
        title="Admins",
        admins=await admin_cases.admins(ports, admin.scope),
        tracks=await tracks(ports, admin.scope, archived=False),
        saved="Saved." if request.query.get("saved") else "",
        error=error,
    )


async def show_admins(request: web.Request, admin: Admin) -> web.StreamResponse:
    return await admins_page(request, admin)


async def change_admin(request: web.Request, admin: Admin) -> web.StreamResponse:
    form = await request.post()
    ports, scope = deps(request).admin, admin.scope
    track = text(form, "track") or None
    reference = text(form, "person")
    try:
        if request.match_info["verb"] == "grant":
            await admin_cases.grant_admin(ports, scope, reference, track)
        else:
            await admin_cases.revoke_admin(ports, scope, reference, track)
    except (RosterError, InvalidInput) as error:
        return await admins_page(request, admin, error=str(error))
    raise see_other(f"{PATH}/admins", saved="1")


async def integrations(request: web.Request, admin: Admin) -> web.StreamResponse:
    console = deps(request)
    cards = await integration_cards(console.people.organisations, admin.scope)
    zone = zone_of(admin)
    return page(
        request,
        "integrations.html",
        admin=admin,
        title="Integrations",
        cards=cards,
        when=lambda moment: when(moment, zone) if moment else "never",
        saved=_disabled(request),
        error="",
    )


def _disabled(request: web.Request) -> str:
    try:
        provider = OrgProvider(request.query.get("disabled", ""))
    except ValueError:
        return ""
    return f"{provider.label} is disabled: its stored access is deleted."


async def disable(request: web.Request, admin: Admin) -> web.StreamResponse:
    admin.scope.check(None)
    try:
        provider = OrgProvider(request.match_info["provider"])
    except ValueError:
        raise web.HTTPNotFound from None
    console = deps(request)
    if console.authority is None:
        raise web.HTTPServiceUnavailable
    await disable_integration(
        console.admin, admin.scope, console.people.organisations, console.authority, provider
    )
    raise see_other(f"{PATH}/integrations", disabled=provider.value)


async def forget(request: web.Request, admin: Admin) -> web.StreamResponse:
    """Forget one person of the program (program-wide admins only), once confirmed."""
    admin.scope.check(None)
    form = await request.post()
    console = deps(request)
    if console.forget is None:
        raise web.HTTPServiceUnavailable
    if text(form, "confirm") != "yes":
        raise see_other(f"{PATH}/people", forget="unconfirmed")
    chosen = text(form, "person")
    rows = await people(console.admin, admin.scope, console.people)
    person = next((row.person for row in rows if row.person.id == chosen), None)
    if person is None:  # not (or no longer) one of this program's people
        raise see_other(f"{PATH}/people", forget="unknown")
    done = await console.forget(person)
    # The audit log says that someone was forgotten, never who.
    change = Change("a person was forgotten", None, f"{sum(done.removed.values())} records")
    await console.admin.audit.record(
        admin.scope.program, admin.scope.actor, [change], console.admin.clock.now()
    )
    raise see_other(f"{PATH}/people", forgot=str(done.cancelled + done.left))


def _forgotten(request: web.Request) -> str:
    """What the last forget did, from the address (never a name: they are gone)."""
    match request.query.get("forget"):
        case "unconfirmed":
            return "Nothing was forgotten: tick the box to confirm first."
        case "unknown":
            return "That person is not one of this program's people (any more)."
    meetings = request.query.get("forgot")
    if meetings is None or not meetings.isdigit():
        return ""
    return f"Forgotten. {meetings} coming meeting(s) were cancelled or left, and the others told."


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get(f"{PATH}/people", signed_in(people_page))
    router.add_get(f"{PATH}/people{{csv:\\.csv}}", signed_in(people_page))
    router.add_post(f"{PATH}/people/remind", signed_in(remind))
    router.add_post(f"{PATH}/people/forget", signed_in(forget))
    router.add_get(f"{PATH}/admins", signed_in(show_admins))
    router.add_post(f"{PATH}/admins/{{verb:grant|revoke}}", signed_in(change_admin))
    router.add_get(f"{PATH}/integrations", signed_in(integrations))
    router.add_post(f"{PATH}/integrations/{{provider}}/disable", signed_in(disable))

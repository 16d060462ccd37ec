"""The connect routes: from a chat link to a stored, encrypted connection.

    GET  /connect/{provider}?state=…        whose calendar this link connects, then Continue
    GET  /connect/{provider}/start?state=…  to the provider's consent page (OAuth)
    GET  /oauth/{provider}/callback         back from it: exchange, store, confirm in chat
    POST /connect/icloud                    Apple ID and app-specific password, checked first

The state is single-use, expires after 15 minutes and is bound to the chat
identity that asked. The first browser to open a link owns it: the first page
sets a cookie of the link's own (two links open in one browser do not clash)
and stores a hash of it with the state, and every later step (Continue, the
provider's callback, the iCloud form) must present it. A second browser is told
the link was opened elsewhere. The callback's check is what stops login CSRF:
a victim who finishes an attacker's consent URL has no cookie for the
attacker's link, so nothing is connected. Microsoft returns by a cross-site
POST (``response_mode=form_post``), which carries only ``SameSite=None``
cookies: its links' cookie is ``SameSite=None; Secure``, the others' ``Lax``.
See docs/calendars.md, "Threat model". Any failure shows a page and changes
nothing stored.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiohttp import web

from adapters.calendars import pages
from adapters.calendars.caldav import CalDavCalendars
from adapters.calendars.errors import ConsentDenied, ProviderError, WrongCredentials
from core.calendars import CalendarConnection
from core.commands import Provider
from core.people import Platform, program_of
from core.ports import Clock, People, Programs
from storage.repositories.connections import (
    ConnectTicket,
    SqlConnections,
    SqlConnectStates,
    StateProblem,
    StateRejected,
)

log = logging.getLogger(__name__)

COOKIE_PREFIX = "pairtime_connect_"
PLATFORM_NAMES = {
    Platform.SLACK: "Slack",
    Platform.TEAMS: "Microsoft Teams",
    Platform.WEB: "Pairtime",
}
STATE_PAGES = {
    StateProblem.UNKNOWN: ("This link isn't valid", "This connect link isn't one Pairtime made."),
    StateProblem.EXPIRED: ("This link has expired", "Connect links work for 15 minutes."),
    StateProblem.USED: ("This link was already used", "Each connect link works once."),
    StateProblem.WRONG_PROVIDER: (
        "This link is for another service",
        "Use the link you were sent.",
    ),
}


@dataclass(frozen=True, slots=True)
class Connected:
    account: str | None
    secret: dict[str, Any] = field(repr=False)


class OAuthFlow(Protocol):
    provider: Provider
    # True when the provider posts its answer back (response_mode=form_post): a cross-site
    # POST, which carries the browser's cookie only if it is SameSite=None.
    returns_by_post: bool

    async def authorization_url(self, state: str, redirect_uri: str) -> tuple[str, dict[str, Any]]:
        """Where to send the browser, and what the callback will need (kept sealed)."""
        ...

    async def finish(
        self, query: Mapping[str, str], kept: Mapping[str, Any], redirect_uri: str
    ) -> Connected:
        """Exchange the callback's code; :class:`ConsentDenied` or ProviderError otherwise."""
        ...


OnConnected = Callable[[ConnectTicket, CalendarConnection], Awaitable[None]]


@dataclass
class ConnectFlows:
    base_url: str
    states: SqlConnectStates
    connections: SqlConnections
    people: People
    programs: Programs
    clock: Clock
    oauth: Mapping[Provider, OAuthFlow]
    caldav: CalDavCalendars | None
    on_connected: OnConnected

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")

    def redirect_uri(self, provider: Provider) -> str:
        return f"{self.base_url}/oauth/{provider.value}/callback"


FLOWS_KEY = web.AppKey("connect_flows", ConnectFlows)


def add_routes(app: web.Application) -> None:
    """Mount the connect routes; the handlers find ``app[FLOWS_KEY]`` when they run."""
    app.router.add_get("/connect/{provider}", show)
    app.router.add_get("/connect/{provider}/start", start)
    app.router.add_post("/connect/icloud", icloud_submit)
    app.router.add_get("/oauth/{provider}/callback", callback)
    app.router.add_post("/oauth/{provider}/callback", callback)  # Microsoft's form_post


async def show(request: web.Request) -> web.StreamResponse:
    flows = request.app[FLOWS_KEY]
    checked = await _ticket(request, flows, consume=False)
    if isinstance(checked, web.Response):
        return checked
    ticket, provider = checked
    cookie = None
    if ticket.browser is None:
        cookie = secrets.token_urlsafe(32)
        if not await flows.states.claim(ticket.state, _fingerprint(cookie)):
            return _opened_elsewhere()  # another browser opened it a moment ago
    elif not _same_browser(request, ticket):
        return _opened_elsewhere()
    person = await flows.people.get(ticket.person)
    name = person.name if person else "you"
    where = PLATFORM_NAMES[ticket.identity.platform]
    if provider is Provider.ICLOUD:
        response = pages.icloud_form(name, where, "/connect/icloud", ticket.state)
    else:
        response = pages.confirm(
            provider.label, name, where, f"/connect/{provider.value}/start", ticket.state
        )
    if cookie is not None:
        oauth = flows.oauth.get(provider)
        cross_site = oauth is not None and oauth.returns_by_post
        response.set_cookie(
            cookie_name(ticket.state),
            cookie,
            max_age=max(int((ticket.expires_at - flows.clock.now()).total_seconds()), 1),
            httponly=True,
            # SameSite=None is only accepted with Secure (browsers treat localhost as secure).
            secure=flows.secure_cookies or cross_site,
            samesite="None" if cross_site else "Lax",
        )
    return response


async def start(request: web.Request) -> web.StreamResponse:
    flows = request.app[FLOWS_KEY]
    checked = await _oauth_ticket(request, flows, refused=_opened_elsewhere)
    if isinstance(checked, web.Response):
        return checked
    ticket, provider, oauth = checked
    url, kept = await oauth.authorization_url(ticket.state, flows.redirect_uri(provider))
    await flows.states.attach(ticket.state, {**ticket.secret, **kept})
    raise web.HTTPFound(url)


async def callback(request: web.Request) -> web.StreamResponse:
    flows = request.app[FLOWS_KEY]
    checked = await _oauth_ticket(request, flows, refused=_finished_elsewhere)
    if isinstance(checked, web.Response):
        return checked
    ticket, provider, oauth = checked
    answer = dict(request.query) | {k: str(v) for k, v in (await request.post()).items()}
    if "code" not in answer and "error" not in answer:
        # Not an answer from the provider (a reload, a bookmark): the link is not used up.
        return pages.problem(
            "This sign-in didn't finish",
            f"{provider.label} sent you back without an answer. Open the link again to try "
            "once more.",
        )
    try:
        ticket = await flows.states.consume(ticket.state, provider, flows.clock.now())
    except StateRejected as rejected:
        return _state_page(rejected.problem)
    try:
        result = await oauth.finish(answer, ticket.secret, flows.redirect_uri(provider))
    except ConsentDenied:
        return pages.problem(
            "Your calendar was not connected",
            f"You declined to give Pairtime access to your {provider.label} calendar.",
        )
    except ProviderError as error:
        log.warning("connecting %s for person %s failed: %s", provider.value, ticket.person, error)
        return pages.problem(
            "Your calendar was not connected", f"{provider.label} said no: {error}.", status=502
        )
    return await _store(flows, ticket, provider, result)


async def icloud_submit(request: web.Request) -> web.StreamResponse:
    flows = request.app[FLOWS_KEY]
    form = await request.post()
    state = str(form.get("state", ""))
    apple_id = str(form.get("apple_id", "")).strip()
    password = str(form.get("password", "")).strip()
    try:
        ticket = await flows.states.peek(state, Provider.ICLOUD, flows.clock.now())
    except StateRejected as rejected:
        return _state_page(rejected.problem)
    if flows.caldav is None or not _same_browser(request, ticket):
        return _opened_elsewhere()
    person = await flows.people.get(ticket.person)
    name = person.name if person else "you"
    where = PLATFORM_NAMES[ticket.identity.platform]

    def again(error: str) -> web.Response:
        return pages.icloud_form(name, where, "/connect/icloud", state, error)

    if "@" not in apple_id or not password:
        return again("Enter your Apple ID (an email address) and an app-specific password.")
    try:
        secret = await flows.caldav.verify(apple_id, password)
    except WrongCredentials:
        return again(
            "iCloud did not accept that Apple ID and app-specific password. Check both, or "
            "create a new app-specific password."
        )
    except ProviderError as error:
        return again(f"iCloud could not be checked just now ({error}). Please try again.")
    try:
        ticket = await flows.states.consume(state, Provider.ICLOUD, flows.clock.now())
    except StateRejected as rejected:
        return _state_page(rejected.problem)
    return await _store(flows, ticket, Provider.ICLOUD, Connected(apple_id, secret))


async def _oauth_ticket(
    request: web.Request, flows: ConnectFlows, *, refused: Callable[[], web.Response]
) -> tuple[ConnectTicket, Provider, OAuthFlow] | web.Response:
    """The ticket of an OAuth link, left usable, with its flow; ``refused()`` when it was
    opened in another browser than the one it started in."""
    checked = await _ticket(request, flows, consume=False)
    if isinstance(checked, web.Response):
        return checked
    ticket, provider = checked
    oauth = flows.oauth.get(provider)
    if oauth is None or not _same_browser(request, ticket):
        return refused()
    return ticket, provider, oauth


async def _ticket(
    request: web.Request, flows: ConnectFlows, *, consume: bool
) -> tuple[ConnectTicket, Provider] | web.Response:
    try:
        provider = Provider(request.match_info["provider"])
    except ValueError:
        return pages.problem(
            "No such calendar service", "Pairtime doesn't know that service.", status=404
        )
    if provider is not Provider.ICLOUD and provider not in flows.oauth:
        return pages.problem(
            "This service isn't set up",
            f"This Pairtime server isn't set up to connect {provider.label} calendars.",
            status=404,
        )
    if provider is Provider.ICLOUD and flows.caldav is None:
        return pages.problem("This service isn't set up", "iCloud isn't set up here.", status=404)
    state = await _state(request)
    now = flows.clock.now()
    try:
        ticket = (
            await flows.states.consume(state, provider, now)
            if consume
            else await flows.states.peek(state, provider, now)
        )
    except StateRejected as rejected:
        return _state_page(rejected.problem)
    settings = await flows.programs.settings(program_of(ticket.identity), among=[ticket.person])
    if provider not in settings.allowed_providers:
        return pages.problem(
            "This service isn't used by your program",
            f"Your mentoring program doesn't use {provider.label} calendars.",
            status=403,
        )
    return ticket, provider


async def _store(
    flows: ConnectFlows, ticket: ConnectTicket, provider: Provider, result: Connected
) -> web.Response:
    summary = await flows.connections.replace(
        ticket.person, provider, result.account, result.secret, flows.clock.now()
    )
    try:
        await flows.on_connected(ticket, summary)
    except Exception:  # the connection is stored; a chat hiccup must not hide that
        log.exception("could not confirm the new %s connection in chat", provider.value)
    response = pages.connected(provider.label, summary.account)  # masked
    response.del_cookie(cookie_name(ticket.state))
    return response


async def _state(request: web.Request) -> str:
    if request.method == "POST":
        form = await request.post()
        return str(form.get("state", ""))
    return request.query.get("state", "")


def cookie_name(state: str) -> str:
    """The cookie of one link: named from a hash of its state, so the name reveals nothing."""
    return COOKIE_PREFIX + hashlib.sha256(state.encode()).hexdigest()[:16]


def _fingerprint(cookie: str) -> str:
    """What is stored of a browser's cookie: a copy of the database cannot replay it."""
    return hashlib.sha256(cookie.encode()).hexdigest()


def _same_browser(request: web.Request, ticket: ConnectTicket) -> bool:
    presented = request.cookies.get(cookie_name(ticket.state))
    return (
        ticket.browser is not None
        and presented is not None
        and secrets.compare_digest(ticket.browser, _fingerprint(presented))
    )


def _finished_elsewhere() -> web.Response:
    # Login CSRF: someone else's consent URL finished in this browser. The link stays
    # usable for the browser that opened it.
    return pages.problem(
        "This sign-in didn't start in this browser",
        "Pairtime connects a calendar only in the browser where its link was opened, so "
        "nothing was connected. If you didn't ask Pairtime to connect your calendar, "
        "someone may have sent you their link: close this tab.",
        status=403,
    )


def _opened_elsewhere() -> web.Response:
    return pages.problem(
        "This link was opened in another browser",
        "A connect link works only in the browser that opened it first, so that nobody it "
        "reaches by mistake can use it. Finish in that browser, or ask for a new link.",
        status=403,
    )


def _state_page(problem: StateProblem) -> web.Response:
    title, text = STATE_PAGES[problem]
    return pages.problem(title, text, status=410 if problem is not StateProblem.UNKNOWN else 400)

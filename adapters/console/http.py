"""What every console page shares: the signed-in admin, the CSRF check, the headers, the
rendering, and core's errors turned into pages.

A request reaches a page's handler only with a live session (stored in the database, so
any process answers it) of someone who is still an admin: their :class:`Scope` is read
again on every request, so a revoked admin is out at once. Every POST must carry the
session's CSRF token. Every answer forbids framing, caching, referrers and inline script.
"""

from __future__ import annotations

import csv
import hmac
import io
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from yarl import URL

from adapters.templates import render
from core.admin import AdminPorts
from core.admin.access import Scope, scope_of
from core.admin.activity import ActivityFacts
from core.admin.people import PeoplePorts
from core.commands import Provider
from core.errors import NotAllowed, NotFound, PairtimeError
from core.people import Person
from core.ports import Clock, OrganisationAuthority
from core.scheduling.forget import Forgotten
from storage.repositories.console import ConsoleSession, SqlConsole

log = logging.getLogger(__name__)

COOKIE = "pairtime_console"
PATH = "/console"
CSRF_FIELD = "csrf"
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
}
# Bytes: aiohttp reads at most 1 MiB of a request (client_max_size) and answers 413 past it;
# 10,000 pairs of addresses are about 500 kB.
MAX_UPLOAD = 1024 * 1024


@dataclass
class ConsoleDeps:
    """What the console's pages work with; ``bot.server`` builds it. ``authority`` (the
    organisation connections' providers) is set once the services run."""

    admin: AdminPorts
    sessions: SqlConsole
    clock: Clock
    https: bool
    people: PeoplePorts
    facts: ActivityFacts
    authority: OrganisationAuthority | None = None
    # Forgetting a person (``Scheduler.forget``): set once the services run.
    forget: Callable[[Person], Awaitable[Forgotten]] | None = None
    # The calendar services this server can connect; the rest are shown as not set up.
    available: frozenset[Provider] = frozenset(Provider)


DEPS_KEY = web.AppKey("console", ConsoleDeps)


@dataclass(frozen=True)
class Admin:
    """The signed-in admin of one request."""

    session: ConsoleSession
    person: Person
    scope: Scope

    @property
    def csrf(self) -> str:
        return self.session.csrf


Handler = Callable[[web.Request, Admin], Awaitable[web.StreamResponse]]


def deps(request: web.Request) -> ConsoleDeps:
    return request.app[DEPS_KEY]


def secured(response: web.StreamResponse) -> web.StreamResponse:
    for name, value in HEADERS.items():
        response.headers[name] = value
    return response


def page(
    request: web.Request,
    template: str,
    *,
    admin: Admin | None,
    status: int = 200,
    **values: Any,
) -> web.Response:
    """``template`` filled in, with the layout's own values (the admin, the CSRF token,
    the current section)."""
    html = render(
        "adapters.console",
        template,
        admin=admin,
        csrf=admin.csrf if admin else "",
        path=request.path,
        **values,
    )
    response = web.Response(text=html, status=status, content_type="text/html")
    secured(response)
    return response


def refusal(request: web.Request, admin: Admin | None, status: int, message: str) -> web.Response:
    return page(request, "refused.html", admin=admin, status=status, message=message)


def sign_in_needed(request: web.Request, message: str | None = None) -> web.Response:
    return page(
        request,
        "signed_out.html",
        admin=None,
        status=401,
        title="Sign in to the admin console",
        message=message
        or "Your session has ended, or you have not signed in. Say “admin” to Pairtime in "
        "chat for a new sign-in link.",
    )


async def current_admin(request: web.Request) -> Admin | None:
    """The signed-in admin behind the request's cookie, or None."""
    token = request.cookies.get(COOKIE)
    if not token or len(token) > 200:
        return None
    console = deps(request)
    session = await console.sessions.session(token, console.clock.now())
    if session is None:
        return None
    people = await console.admin.people.many([session.person])
    person = people.get(session.person)
    scope = await scope_of(console.admin, session.program, person) if person else None
    if person is None or scope is None:  # no longer an admin: out, everywhere
        await console.sessions.close_all(session.program, session.person)
        return None
    return Admin(session, person, scope)


def signed_in(handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """``handler`` for signed-in admins only; a POST also needs the session's CSRF token.

    Core's refusals become pages: NotAllowed 403, NotFound 404, bad input 400 (the form's
    own page shows it when the handler catches it first)."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        admin = await current_admin(request)
        if admin is None:
            return sign_in_needed(request)
        if request.method == "POST":
            form = await request.post()
            sent = form.get(CSRF_FIELD)
            if not isinstance(sent, str) or not hmac.compare_digest(
                sent.encode(), admin.csrf.encode()
            ):
                return refusal(
                    request,
                    admin,
                    403,
                    "This form has expired or did not come from the console. Nothing was "
                    "changed: open the page again and retry.",
                )
        try:
            response = await handler(request, admin)
        except NotAllowed as error:
            return refusal(request, admin, 403, str(error))
        except NotFound as error:
            return refusal(request, admin, 404, str(error))
        except PairtimeError as error:  # bad input, a conflict: each message is safe to show
            return refusal(request, admin, 400, str(error))
        return secured(response)

    return wrapped


def see_other(location: str, **query: str) -> web.HTTPSeeOther:
    """After a change, back to a page (POST, redirect, GET): a reload repeats nothing."""
    url = URL(location)
    if query:
        url = url.with_query(query)
    return web.HTTPSeeOther(str(url), headers=HEADERS)


def text(form: Mapping[str, Any], name: str) -> str:
    """A form's text field ('' when missing or a file)."""
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _safe(cell: str) -> str:
    """A cell a spreadsheet will not run as a formula (CSV injection)."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


def csv_file(name: str, headers: list[str], rows: list[list[str]]) -> web.Response:
    """A table as a CSV download, ``pairtime-NAME.csv``."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows([_safe(cell) for cell in row] for row in rows)
    response = web.Response(
        text=out.getvalue(),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="pairtime-{name}.csv"'},
    )
    secured(response)
    return response

"""The console's routes, and signing in and out.

A sign-in link (``/console/sign-in?token=…``, from "admin" in chat) first shows a page
with a button: link previews (Slack's unfurling, Teams' cards, mail scanners) fetch what
they see, and must not use up a single-use link. The button's POST uses the link, checks
it was issued to someone who is still an admin and still has that chat identity, and
starts a session.
"""

from __future__ import annotations

from importlib import resources

from aiohttp import web

from adapters.console import activity_pages, people_pages, roster_pages, rules_pages
from adapters.console.http import (
    COOKIE,
    DEPS_KEY,
    PATH,
    Admin,
    ConsoleDeps,
    current_admin,
    deps,
    page,
    secured,
    see_other,
    sign_in_needed,
    signed_in,
    text,
)
from core.admin.access import scope_of
from storage.repositories.console import LinkProblem, LinkRejected

__all__ = ["DEPS_KEY", "ConsoleDeps", "add_routes"]

STATIC = {
    "console.css": "text/css",
    "console.js": "text/javascript",
    "favicon.svg": "image/svg+xml",
}
LINK_PROBLEMS = {
    LinkProblem.UNKNOWN: "This sign-in link is not valid.",
    LinkProblem.EXPIRED: "This sign-in link has expired: links work for 10 minutes.",
    LinkProblem.USED: "This sign-in link has been used already: each works once.",
}


async def sign_in_page(request: web.Request) -> web.StreamResponse:
    token = request.query.get("token", "")
    if not token or len(token) > 200:
        return sign_in_needed(request, LINK_PROBLEMS[LinkProblem.UNKNOWN] + AGAIN)
    return page(request, "sign_in.html", admin=None, token=token)


AGAIN = " Say “admin” to Pairtime in chat for a new one."


async def sign_in(request: web.Request) -> web.StreamResponse:
    console = deps(request)
    form = await request.post()
    token = text(form, "token")
    if not token or len(token) > 200:
        return sign_in_needed(request, LINK_PROBLEMS[LinkProblem.UNKNOWN] + AGAIN)
    try:
        ticket = await console.sessions.use_link(token, console.clock.now())
    except LinkRejected as rejected:
        return sign_in_needed(request, LINK_PROBLEMS[rejected.problem] + AGAIN)
    # Bound to the chat identity that asked, and to someone who is an admin now.
    speaker = await console.admin.people.by_chat_user(ticket.program, ticket.identity.user_id)
    scope = (
        await scope_of(console.admin, ticket.program, speaker)
        if speaker is not None and speaker.id == ticket.person
        else None
    )
    if scope is None:
        return page(
            request,
            "refused.html",
            admin=None,
            status=403,
            message="You're not an admin of this program (any more), so this link does not "
            "sign you in.",
        )
    cookie = await console.sessions.open_session(ticket.program, ticket.person, console.clock.now())
    response = see_other(f"{PATH}/")
    response.set_cookie(
        COOKIE,
        cookie,
        path=PATH,
        httponly=True,
        secure=console.https,
        samesite="Lax",
    )
    raise response


async def sign_out(request: web.Request, _admin: Admin) -> web.StreamResponse:
    token = request.cookies.get(COOKIE, "")
    await deps(request).sessions.close(token)
    response = page(
        request,
        "signed_out.html",
        admin=None,
        title="Signed out",
        message="You have signed out of the admin console. Say “admin” to Pairtime in chat "
        "to sign in again.",
    )
    response.del_cookie(COOKIE, path=PATH)
    return response


async def home(request: web.Request) -> web.StreamResponse:
    if await current_admin(request) is None:
        return sign_in_needed(request)
    raise see_other(f"{PATH}/tracks")


async def static(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    kind = STATIC.get(name)
    if kind is None:
        raise web.HTTPNotFound
    body = resources.files("adapters.console").joinpath("static", name).read_bytes()
    response = web.Response(body=body, content_type=kind)
    secured(response)
    response.headers["Cache-Control"] = "no-cache"  # small, and revalidated: never stale
    return response


def add_routes(app: web.Application, console: ConsoleDeps) -> None:
    app[DEPS_KEY] = console
    router = app.router
    router.add_get(f"{PATH}", home)
    router.add_get(f"{PATH}/", home)
    router.add_get(f"{PATH}/sign-in", sign_in_page)
    router.add_post(f"{PATH}/sign-in", sign_in)
    router.add_post(f"{PATH}/sign-out", signed_in(sign_out))
    router.add_get(f"{PATH}/static/{{name}}", static)
    rules_pages.add_routes(router)
    roster_pages.add_routes(router)
    people_pages.add_routes(router)
    activity_pages.add_routes(router)

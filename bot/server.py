"""The one aiohttp application of ``pairtime serve``: every route on one port."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, MutableMapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web
from aiohttp.typedefs import Middleware

from adapters import console
from adapters.calendars import connect
from adapters.chat import ChatContext, ChatEndpoint
from bot import chores, console_jobs, meeting_jobs
from bot.access_log import PathOnlyAccessLogger, loggable
from bot.admin import admin_ports
from bot.inbox import WorkerInbox
from bot.services import Services, SystemClock, build_services, http_session
from bot.settings import Settings
from core.admin.people import PeoplePorts
from core.people import Platform
from core.ports import Clock
from storage.database import StatementCount
from storage.store import Storage

if TYPE_CHECKING:
    from adapters.teams.timing import TeamsTiming
    from adapters.web.inbox import DemoDesk

log = logging.getLogger(__name__)

SETTINGS_KEY = web.AppKey("settings", Settings)
STORAGE_KEY = web.AppKey("storage", Storage)
SERVICES_KEY = web.AppKey("services", Services)


async def healthz(_request: web.Request) -> web.Response:
    """Liveness for load balancers and the README's first command."""
    return web.json_response({"status": "ok"})


def _statements(count: StatementCount) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The SQL statements run so far (PAIRTIME_COUNT_SQL=1, never in production): the
    benchmarks read it before and after a run."""

    async def statements(_request: web.Request) -> web.Response:
        return web.json_response(
            {"statements": count.statements, "commits": count.commits, "kinds": count.kinds}
        )

    return statements


async def invitation(request: web.Request) -> web.Response:
    """A meeting's .ics, for platforms that cannot attach files (the link is signed)."""
    found = await request.app[SERVICES_KEY].scheduler.invitation(request.match_info["token"])
    if found is None:
        raise web.HTTPNotFound(text="This invitation link is not valid, or has expired.")
    return web.Response(
        body=found.content,
        content_type=found.media_type,
        headers={"Content-Disposition": f'attachment; filename="{found.filename}"'},
    )


# On every response, aiohttp's own 404 and 405 pages included; a handler's own value wins
# (the connect pages and the playground set a stricter or a looser policy of their own).
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    # Nothing to run, frame or load, except for the few pages that say otherwise (bolt's
    # install page keeps its inline style and Slack's button image).
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "img-src https:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
}
HSTS = "max-age=31536000"  # a year, once the public address is https


def security_headers(*, https: bool) -> Middleware:
    headers = SECURITY_HEADERS | ({"Strict-Transport-Security": HSTS} if https else {})

    @web.middleware
    async def middleware(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPException as error:  # aiohttp's own 404 and 405 come this way
            _add(error.headers, headers)
            raise
        except Exception:
            # aiohttp would answer 500 itself, without these headers. As in the access log:
            # no query string or token, which can be secrets.
            log.exception("answering %s %s failed", request.method, loggable(request.path))
            response = web.Response(status=500, text="500: Internal Server Error")
        if not response.prepared:
            _add(response.headers, headers)
        return response

    return middleware


def _add(target: MutableMapping[str, str], headers: Mapping[str, str]) -> None:
    for name, value in headers.items():
        target.setdefault(name, value)


SLACK_PATHS = ("/slack/events", "/slack/install", "/slack/oauth_redirect")
TEAMS_PATHS = ("/api/messages",)
WEB_PATHS = ("/", "/playground/{tail:.*}")
CHAT_KEY = web.AppKey("chat_endpoints", dict)
# How long requests in flight may take to finish at shutdown: Slack stops waiting for an
# answer after 3 seconds and Teams after about 5. With the worker's 10 seconds and the chat
# work's 10 after it, a stop ends within the 30 seconds service managers usually wait.
HTTP_GRACE_SECONDS = 5.0


def build_app(
    settings: Settings,
    storage: Storage,
    *,
    clock: Clock | None = None,
    folder: Path | None = None,
    teams_timing: TeamsTiming | None = None,
) -> web.Application:
    """The application for ``settings``; its services start and stop with it.

    ``folder`` keeps local state (the playground's demo calendars); the
    working directory's ``.pairtime`` by default. ``clock`` and ``teams_timing``
    replace the real ones (tests).
    """
    folder = folder or Path.cwd() / ".pairtime"
    clock = clock or SystemClock()
    app = web.Application(
        middlewares=[security_headers(https=settings.base_url.startswith("https://"))]
    )
    app[SETTINGS_KEY] = settings
    app[STORAGE_KEY] = storage
    app.router.add_get("/healthz", healthz)
    if settings.count_sql:
        app.router.add_get("/debug/sql", _statements(storage.database.count_statements()))
    app.router.add_get("/invitations/{token}.ics", invitation)
    connect.add_routes(app)
    console_deps = console.ConsoleDeps(
        admin_ports(storage, clock),
        storage.console,
        clock,
        https=settings.base_url.startswith("https://"),
        people=PeoplePorts(storage.connections, storage.organisations, storage.jobs),
        facts=storage.activity,
        available=settings.calendars.available,
    )
    console.add_routes(app, console_deps)
    for path in SLACK_PATHS:
        app.router.add_route("*", path, _forward("slack"))
    for path in TEAMS_PATHS:
        app.router.add_route("*", path, _forward("teams"))
    for path in WEB_PATHS:
        app.router.add_route("*", path, _forward("web"))

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        current = settings
        demo = None
        if settings.playground_enabled:
            from bot.demo import start_demo  # noqa: PLC0415 - Radicale only for the playground

            # The demo's own CalDAV server stands in for iCloud, so connecting is real; its
            # own SMTP server receives the invitations, unless the operator set theirs.
            demo = await start_demo(settings, storage, folder)
            current = replace(
                settings,
                calendars=replace(settings.calendars, caldav_url=demo.caldav_url),
                mail=settings.mail or demo.mail,
            )
        async with http_session(current) as http:
            services = build_services(current, storage, http, clock)
            app[SERVICES_KEY] = services
            app[connect.FLOWS_KEY] = services.flows
            console_deps.authority = services.organisations
            console_deps.forget = services.scheduler.forget
            chat = ChatContext(
                services.scheduler,
                storage.events,
                storage.conversations,
                services.clock,
                settings.base_url,
                http,
                WorkerInbox(services.worker, services.clock),
            )
            desk = demo.desk if demo is not None else None
            endpoints = await _start_chat(current, chat, storage, teams_timing, desk)
            app[CHAT_KEY] = endpoints
            for name, endpoint in endpoints.items():
                services.messengers.register(Platform(name), endpoint.messenger)
                services.channel_members.register(Platform(name), endpoint.channel_members)
            chores.register(services.worker, storage, services.clock)
            chores.register_messages(services.worker, chores.messaging(services))
            meeting_jobs.register(services.worker, services)
            console_jobs.register(services.worker, services)
            if current.mail is None:
                log.info(
                    "Invitations are not emailed: PAIRTIME_SMTP_URL is not set. Chat "
                    "confirmations carry the .ics file instead."
                )
            elif demo is not None and demo.mail is current.mail:
                log.info(
                    "Invitations are emailed to the playground's own SMTP server (%s): each "
                    "demo person's inbox, on the page. Nothing leaves this machine.",
                    current.mail.describe(),
                )
            else:
                log.info("Invitations are emailed through %s", current.mail.describe())
            await chores.start(storage, services.clock)
            services.worker.start()
            try:
                yield
            finally:
                # Before anything it uses closes: running jobs finish or are handed back.
                await services.worker.close()
                # Then the chat work acknowledged before the stop (it kept running meanwhile),
                # every platform's at once.
                await asyncio.gather(*(endpoint.close() for endpoint in endpoints.values()))
                await services.worker.stop()  # what they could not finish goes back
                await services.close()
                if demo is not None:
                    await demo.close()

    app.cleanup_ctx.append(lifecycle)
    return app


async def _start_chat(
    settings: Settings,
    chat: ChatContext,
    storage: Storage,
    teams_timing: TeamsTiming | None,
    desk: DemoDesk | None = None,
) -> dict[str, ChatEndpoint]:
    # Each chat library is imported only when its platform is configured: together they are
    # most of a start-up's CPU (slack_bolt, botbuilder), and a server without them starts fast.
    endpoints: dict[str, ChatEndpoint] = {}
    if settings.slack.enabled:
        from adapters.slack.endpoint import start_slack  # noqa: PLC0415 - see above

        # Slack's installations (many workspaces) are bolt's, kept sealed in our database.
        endpoints[Platform.SLACK.value] = await start_slack(
            settings.slack, chat, database=storage.database, vault=storage.vault
        )
    if settings.teams.enabled:
        from adapters.teams.endpoint import start_teams  # noqa: PLC0415 - see above

        endpoints[Platform.TEAMS.value] = await start_teams(
            settings.teams, chat, timing=teams_timing
        )
    if settings.playground_enabled:
        from adapters.web.endpoint import start_web  # noqa: PLC0415 - see above

        endpoints[Platform.WEB.value] = await start_web(chat, desk)
    return endpoints


def _forward(platform: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handler(request: web.Request) -> web.StreamResponse:
        endpoint = request.app[CHAT_KEY].get(platform)
        if endpoint is None:
            return web.json_response(
                {"error": f"{platform.capitalize()} is not configured on this Pairtime server"},
                status=404,
            )
        response: web.StreamResponse = await endpoint.handle(request)
        return response

    return handler


async def serve(
    app: web.Application,
    sockets: Sequence[socket.socket],
    *,
    announce: Callable[[str], None],
    stop: asyncio.Event | None = None,
) -> None:
    """Run ``app`` on ``sockets`` (bound and listening already, see ``bot.cli``) until
    SIGINT or SIGTERM, then drain and stop (docs/deploy.md).

    ``announce`` receives the first address listened on, once the application is ready:
    that is how tests find a port the system chose.

    On the signal it stops listening at once (a load balancer's next health check
    fails, and its next connection goes to another process), lets requests in flight
    finish (``HTTP_GRACE_SECONDS``), then the application's cleanup lets acknowledged
    chat work finish and the worker finish or hand back its jobs (``bot.worker``).
    """
    # Handle signals before saying we listen: a stop may come the moment we do. ``stop``
    # is set by a signal, or by a test.
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    runner = web.AppRunner(
        app, access_log_class=PathOnlyAccessLogger, shutdown_timeout=HTTP_GRACE_SECONDS
    )
    await runner.setup()
    sites = [web.SockSite(runner, listening) for listening in sockets]
    for site in sites:
        await site.start()
    bound_host, bound_port = sockets[0].getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    announce(f"http://{shown}:{bound_port}")
    try:
        await stop.wait()
    finally:
        for site in sites:
            await site.stop()
        log.info("Stopped listening; finishing the requests and the work in flight")
        await runner.cleanup()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        log.info("Stopped")

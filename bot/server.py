"""The one aiohttp application of ``pairtime serve``: every route on one port."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from adapters.calendars import connect
from bot.bootstrap import Services, build_services, http_session
from bot.settings import Settings
from core.ports import Clock
from storage.store import Storage

SETTINGS_KEY = web.AppKey("settings", Settings)
STORAGE_KEY = web.AppKey("storage", Storage)
SERVICES_KEY = web.AppKey("services", Services)


async def healthz(_request: web.Request) -> web.Response:
    """Liveness for load balancers and the README's first command."""
    return web.json_response({"status": "ok"})


def build_app(
    settings: Settings, storage: Storage, *, clock: Clock | None = None
) -> web.Application:
    """The application for ``settings``; its services start and stop with it."""
    app = web.Application()
    app[SETTINGS_KEY] = settings
    app[STORAGE_KEY] = storage
    app.router.add_get("/healthz", healthz)
    connect.add_routes(app)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        async with http_session(settings) as http:
            services = build_services(settings, storage, http, clock)
            app[SERVICES_KEY] = services
            app[connect.FLOWS_KEY] = services.flows
            yield

    app.cleanup_ctx.append(lifecycle)
    return app


async def serve(
    app: web.Application, host: str, port: int, *, announce: Callable[[str], None]
) -> None:
    """Run ``app`` until SIGINT or SIGTERM, then shut down cleanly.

    ``port`` 0 asks the system for a free port; ``announce`` receives the
    address actually bound, which is how tests find it.
    """
    # Handle signals before saying we listen: a stop may come the moment we do.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound_host, bound_port = runner.addresses[0][:2]
    announce(f"http://{bound_host}:{bound_port}")
    try:
        await stop.wait()
    finally:
        await runner.cleanup()

"""A real Radicale CalDAV server for tests, in-process on a free localhost port.

Plain htpasswd authentication stands in for an Apple ID and app-specific
password. ``iCloud=True`` wraps it so that it refuses the free-busy-query
REPORT with 400, as iCloud does. ``answer_next(body)`` makes the next REPORT (or
another method) answer ``body`` as it is, for answers a client cannot parse.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import radicale.config
from caldav.collection import Calendar, Principal
from caldav.davclient import DAVClient
from radicale.app import Application


class ThreadingServer(ThreadingMixIn, WSGIServer):
    """One thread per request, as real CalDAV servers (and Radicale's own) serve."""

    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        pass


WsgiApp = Callable[..., Iterable[bytes]]


@dataclass
class Scripted:
    """An answer to give as it is, instead of Radicale's, to the next ``remaining`` calls."""

    method: str
    remaining: int
    status: str
    body: bytes
    content_type: str


@dataclass(frozen=True)
class CalDavServer:
    url: str
    users: dict[str, str]
    _app: list[WsgiApp] = field(default_factory=list, repr=False)
    _scripts: list[Scripted] = field(default_factory=list, repr=False)

    def wrap(self, middleware: Callable[[WsgiApp], WsgiApp]) -> None:
        """Put ``middleware`` in front of the server from now on (latency for benchmarks)."""
        self._app[0] = middleware(self._app[0])

    def answer_next(
        self,
        body: str,
        *,
        method: str = "REPORT",
        status: str = "207 Multi-Status",
        content_type: str = "application/xml; charset=utf-8",
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` ``method`` requests with ``body`` (a proxy's page,
        a truncated multistatus), as a CalDAV server on a bad day might."""
        self._scripts.append(Scripted(method, times, status, body.encode(), content_type))


def _like_icloud(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] == "REPORT":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length)
            if b"free-busy-query" in body:
                start_response("400 Bad Request", [("Content-Type", "text/plain")])
                return [b"free-busy-query is not supported"]
            environ["wsgi.input"] = io.BytesIO(body)
        return app(environ, start_response)

    return application


@contextmanager
def radicale_server(
    folder: Path, users: dict[str, str], *, icloud: bool = True
) -> Iterator[CalDavServer]:
    htpasswd = folder / "users"
    htpasswd.write_text("".join(f"{user}:{password}\n" for user, password in users.items()))
    configuration = radicale.config.load()
    configuration.update(
        {
            "auth": {
                "type": "htpasswd",
                "htpasswd_filename": str(htpasswd),
                "htpasswd_encryption": "plain",
                "delay": "0",
            },
            "storage": {"filesystem_folder": str(folder / "collections")},
            "rights": {"type": "owner_only"},
            "logging": {"level": "warning"},
        },
        "test",
    )
    app: Callable[..., Iterable[bytes]] = Application(configuration)
    if icloud:
        app = _like_icloud(app)
    current = [app]
    scripts: list[Scripted] = []

    def dispatch(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        script = next(
            (s for s in scripts if s.method == environ["REQUEST_METHOD"] and s.remaining > 0),
            None,
        )
        if script is not None:
            script.remaining -= 1
            environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            start_response(script.status, [("Content-Type", script.content_type)])
            return [script.body]
        return current[0](environ, start_response)

    server: WSGIServer = make_server(
        "127.0.0.1", 0, dispatch, server_class=ThreadingServer, handler_class=QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, name="radicale", daemon=True)
    thread.start()
    try:
        yield CalDavServer(f"http://127.0.0.1:{server.server_port}/", users, current, scripts)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def principal(url: str, username: str, password: str) -> Principal:
    """The account's CalDAV principal, through caldav's own client, to set up its calendars."""
    client = DAVClient(url, username=username, password=password)
    found: Principal = client.principal()  # type: ignore[no-untyped-call]  # caldav leaves it untyped
    return found


def add_calendar(
    url: str, username: str, password: str, name: str, events: Iterable[str] = ()
) -> None:
    """A calendar called ``name`` in the account, holding ``events`` (iCalendar text)."""
    calendar = principal(url, username, password).make_calendar(name=name)
    assert isinstance(calendar, Calendar)  # caldav's synchronous client answers at once
    for event in events:
        calendar.save_event(event)

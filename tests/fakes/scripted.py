"""What the Google and Microsoft fakes share: every request recorded, faults and delays scripted.

A fake is a dataclass with ``calls``, ``latency`` and ``_scripts``; it serves each route through
:meth:`ScriptedEndpoints._endpoint` and says how a scripted fault looks in its service's own
error shape (``_fault_response``) and, if a script may name a group of endpoints, which
(``_covers``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake received, for assertions."""

    endpoint: str
    method: str
    path: str
    query: dict[str, str]
    headers: CIMultiDictProxy[str]  # looked up case-insensitively
    form: dict[str, str]
    json: Any


@dataclass
class Script:
    """A scripted fault (``status``) or ``delay`` for the next ``remaining`` calls to ``on``."""

    on: str
    remaining: int
    status: int | None = None
    delay: float = 0.0
    retry_after: int | None = None
    reason: str | None = None  # the service's own error code, instead of the status's usual one
    body: str | None = None  # an answer of the fake's choosing instead (a malformed one)
    content_type: str = "application/json"


class ScriptedEndpoints:
    calls: list[RecordedRequest]
    latency: float
    _scripts: list[Script]

    def calls_to(self, endpoint: str) -> list[RecordedRequest]:
        return [r for r in self.calls if r.endpoint == endpoint]

    def answer_next(
        self,
        body: str,
        *,
        on: str,
        status: int = 200,
        content_type: str = "application/json",
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` calls to ``on`` with ``body`` as it is: a proxy's HTML
        page, truncated JSON, JSON of another shape (what a real service sends on a bad day)."""
        self._scripts.append(Script(on, times, status=status, body=body, content_type=content_type))

    def _covers(self, on: str, endpoint: str) -> bool:
        """Whether a script set ``on`` applies to a call to ``endpoint``."""
        return on == endpoint

    def _fault_response(self, endpoint: str, fault: Script) -> web.Response:
        raise NotImplementedError

    def _endpoint(self, name: str, handler: Handler) -> Handler:
        async def serve(request: web.Request) -> web.StreamResponse:
            await self._record(name, request)
            script = self._take_script(name)
            delay = self.latency + sum(s.delay for s in script)
            if delay:
                await asyncio.sleep(delay)
            fault = next((s for s in script if s.status is not None), None)
            if fault is not None and fault.body is not None:
                return web.Response(
                    status=fault.status or 200, text=fault.body, content_type=fault.content_type
                )
            if fault is not None:
                return self._fault_response(name, fault)
            return await handler(request)

        return serve

    async def _record(self, name: str, request: web.Request) -> None:
        body = await request.read()
        form: dict[str, str] = {}
        payload: Any = None
        if request.content_type == "application/x-www-form-urlencoded":
            form = {k: str(v) for k, v in (await request.post()).items()}
        elif request.content_type == "application/json" and body:
            try:
                payload = await request.json()
            except ValueError:
                payload = None  # the handler answers it as the service would
        self.calls.append(
            RecordedRequest(
                endpoint=name,
                method=request.method,
                path=request.path,
                query=dict(request.query),
                headers=CIMultiDictProxy(CIMultiDict(request.headers)),
                form=form,
                json=payload,
            )
        )

    def _take_script(self, name: str) -> list[Script]:
        """This call's share of the scripts: at most one fault and one delay."""
        taken: list[Script] = []
        for script in self._scripts:
            fault = script.status is not None
            if (
                self._covers(script.on, name)
                and script.remaining > 0
                and all((s.status is not None) != fault for s in taken)
            ):
                script.remaining -= 1
                taken.append(script)
        self._scripts = [s for s in self._scripts if s.remaining > 0]
        return taken

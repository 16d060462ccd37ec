"""Graph's JSON batching (``POST /v1.0/$batch``) for FakeMicrosoft, as documented: at most
20 requests, each with a unique ``id``, a ``method`` and a ``url`` relative to the version
(``/users/...``), optional ``headers`` (a ``body`` needs its ``Content-Type`` there); the
batch's Authorization applies to each. Every request runs as if sent alone (through the
fake's own routes, so scripted faults, RBAC and paging apply), and the answers come back
as ``{"responses": [{id, status, headers, body}]}`` in an order of Graph's choosing
(here: reversed, so a client that relies on the order is caught). A 429 inside keeps its
``Retry-After`` header.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

if TYPE_CHECKING:
    from tests.fakes.microsoft import FakeMicrosoft

MAX_REQUESTS = 20
# Marks the fake's own requests for a batch's parts (a benchmark counts the batch once).
BATCH_PART = "X-Fake-Batch-Part"
METHODS = frozenset({"GET", "POST", "PATCH", "PUT", "DELETE"})


def routes(fake: FakeMicrosoft) -> list[tuple[str, str, str, Any]]:
    return [("POST", "/v1.0/$batch", "batch", lambda r: _batch(fake, r))]


async def _batch(fake: FakeMicrosoft, request: web.Request) -> web.StreamResponse:
    from tests.fakes.microsoft import _graph_error  # noqa: PLC0415 - cycle

    del fake
    try:
        body: Any = json.loads(await request.read())
    except ValueError:
        return _graph_error(400, "BadRequest", "Invalid batch payload format.")
    requests = body.get("requests") if isinstance(body, dict) else None
    if not isinstance(requests, list) or not requests:
        return _graph_error(400, "BadRequest", "Invalid batch payload format.")
    if len(requests) > MAX_REQUESTS:
        return _graph_error(
            400, "BadRequest", "Number of requests in a batch exceeds the max limit of 20."
        )
    ids = [str(r.get("id", "")) if isinstance(r, dict) else "" for r in requests]
    if "" in ids or len(set(ids)) != len(ids):
        return _graph_error(400, "BadRequest", "Each request of a batch needs a unique id.")
    for item in requests:
        url = str(item.get("url", ""))
        if item.get("method") not in METHODS or not url.startswith("/"):
            return _graph_error(
                400, "BadRequest", "A batch request needs a method and a relative url."
            )
        headers = {k.lower(): v for k, v in (item.get("headers") or {}).items()}
        if "body" in item and "content-type" not in headers:
            return _graph_error(
                400, "BadRequest", "Content-Type header must be specified for a body."
            )
    base = f"{request.scheme}://{request.host}/v1.0"

    async def run(http: aiohttp.ClientSession, item: dict[str, Any]) -> dict[str, Any]:
        headers = {**(item.get("headers") or {}), BATCH_PART: "1"}
        if "Authorization" in request.headers:
            headers["Authorization"] = request.headers["Authorization"]
        data = json.dumps(item["body"]) if "body" in item else None
        async with http.request(
            item["method"], base + item["url"], headers=headers, data=data
        ) as reply:
            text = await reply.text()
            kept = {
                k: v
                for k, v in reply.headers.items()
                if k.lower() in ("retry-after", "content-type", "location")
            }
            return {
                "id": str(item["id"]),
                "status": reply.status,
                "headers": kept,
                "body": json.loads(text) if text else None,
            }

    # Each request as if sent alone, to this very server (its TLS is the test's own), all
    # at once as Graph runs a batch's independent requests.
    connector = aiohttp.TCPConnector(ssl=False)
    async with aiohttp.ClientSession(connector=connector) as http:
        answers = await asyncio.gather(*(run(http, item) for item in requests))
    return web.json_response({"responses": list(reversed(answers))})

"""JSON over HTTP to calendar APIs, retried within a deadline.

Transient failures (timeouts, 429 with Retry-After, 5xx) are retried with
exponential backoff, but never past the caller's deadline: one slow
provider must not hold up everyone else's answer.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp

from adapters.calendars.errors import BadAnswer, ProviderError, ProviderUnavailable

T = TypeVar("T")
RETRYABLE = frozenset({429, 500, 502, 503, 504})
FIRST_BACKOFF = 0.2


@dataclass(frozen=True, slots=True)
class Deadline:
    """A point in the event loop's clock after which nobody waits any more."""

    at: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(asyncio.get_running_loop().time() + seconds)

    def remaining(self) -> float:
        return self.at - asyncio.get_running_loop().time()


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    data: Any  # parsed JSON, or None when the body was not JSON


async def request_json(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    deadline: Deadline,
    service: str,
    retry_also: Callable[[Reply], bool] | None = None,
    **kwargs: Any,
) -> Reply:
    """Send one request, retrying transient failures until ``deadline``.

    Returns the first non-retryable reply (2xx and 4xx alike: callers decide);
    ``retry_also`` marks more replies as transient (Google's 403 rate limits).
    Raises :class:`ProviderUnavailable` naming ``service`` when time runs out.
    """
    backoff = FIRST_BACKOFF
    while True:
        remaining = deadline.remaining()
        if remaining <= 0:
            raise ProviderUnavailable(f"{service} did not answer in time")
        wait = None
        try:
            async with session.request(
                method, url, timeout=aiohttp.ClientTimeout(total=remaining), **kwargs
            ) as response:
                reply = Reply(response.status, await _json(response))
                if response.status not in RETRYABLE and not (retry_also and retry_also(reply)):
                    return reply
                wait = _retry_after(response.headers.get("Retry-After"))
        except (TimeoutError, aiohttp.ClientError):
            pass  # transient: try again while time remains
        delay = wait if wait is not None else backoff * (0.5 + random.random())  # noqa: S311 - jitter
        backoff *= 2
        if delay >= deadline.remaining():
            raise ProviderUnavailable(f"{service} is busy or unavailable right now")
        await asyncio.sleep(delay)


def parsed(reply: Reply, service: str, parse: Callable[[Any], T]) -> T:
    """``parse(reply.data)``; whatever goes wrong in it is the answer's fault, so it
    becomes a :class:`BadAnswer` naming ``service`` and the HTTP status."""
    if reply.data is None:
        raise BadAnswer(service, reply.status, "the body is not JSON")
    try:
        return parse(reply.data)
    except ProviderError:
        raise  # the answer made sense and said something went wrong
    except Exception as error:  # noqa: BLE001 - any failure here is a shape the docs don't give
        detail = f"unexpected shape ({type(error).__name__})"
        raise BadAnswer(service, reply.status, detail) from None


async def _json(response: aiohttp.ClientResponse) -> Any:
    try:
        return await response.json(content_type=None)
    except ValueError:
        return None


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: rare for these APIs, back off instead

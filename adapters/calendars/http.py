"""JSON over HTTP to calendar APIs, retried within a deadline.

Transient failures (timeouts, 429 with Retry-After, 5xx) are retried (``tenacity``) with
exponential backoff and jitter, but never past the caller's deadline: one slow
provider must not hold up everyone else's answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

import aiohttp
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    retry_if_result,
    wait_random_exponential,
)

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

    async def attempt() -> _Answer:
        remaining = deadline.remaining()
        if remaining <= 0:
            raise ProviderUnavailable(f"{service} did not answer in time")
        timeout = aiohttp.ClientTimeout(total=remaining)
        async with session.request(method, url, timeout=timeout, **kwargs) as response:
            reply = Reply(response.status, await _json(response))
            transient = response.status in RETRYABLE or bool(retry_also and retry_also(reply))
            return _Answer(reply, transient, _retry_after(response.headers.get("Retry-After")))

    def out_of_time(_: RetryCallState) -> NoReturn:
        raise ProviderUnavailable(f"{service} is busy or unavailable right now")

    retrying = AsyncRetrying(
        retry=retry_if_exception_type((TimeoutError, aiohttp.ClientError))
        | retry_if_result(lambda answer: answer.transient),
        wait=_wait,
        # Never past the deadline: a wait that would end after it is not begun.
        stop=lambda state: state.upcoming_sleep >= deadline.remaining(),
        retry_error_callback=out_of_time,
    )
    answer: _Answer = await retrying(attempt)
    return answer.reply


@dataclass(frozen=True, slots=True)
class _Answer:
    reply: Reply
    transient: bool  # worth asking again
    retry_after: float | None  # seconds, when the server said


def _wait(state: RetryCallState) -> float:
    """The server's ``Retry-After`` when it gave one, else exponential backoff with jitter."""
    outcome = state.outcome
    if outcome is not None and not outcome.failed:
        asked = outcome.result().retry_after
        if asked is not None:
            return float(asked)
    return float(_backoff(state))


_backoff = wait_random_exponential(multiplier=FIRST_BACKOFF)  # 0 to 0.2 s, 0.4 s, 0.8 s...


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


retry_after = _retry_after  # for answers inside a batch, which carry their own headers

"""What each log line is about: the chat platform, the program and the event in hand.

An adapter binds them where a request starts (:func:`bound`); every line logged
meanwhile carries them, in any module, and so do the background tasks started
inside (asyncio copies context variables into each new task). ``bot.logs`` puts
them on each record. Only ids are bound, never what anyone wrote.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType

FIELDS = ("platform", "program", "event")
_NOTHING: Mapping[str, str] = MappingProxyType({})
_bound: ContextVar[Mapping[str, str]] = ContextVar("pairtime_log_context", default=_NOTHING)


def current() -> Mapping[str, str]:
    """The fields bound here (platform, program, event), those that are known."""
    return _bound.get()


@contextmanager
def bound(**fields: str | None) -> Iterator[None]:
    """Bind ``fields`` (``platform``, ``program``, ``event``) for what runs inside; None
    leaves a field as it was."""
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise TypeError(f"log lines carry {', '.join(FIELDS)}, not {', '.join(sorted(unknown))}")
    merged = {**_bound.get(), **{k: v for k, v in fields.items() if v is not None}}
    token = _bound.set(MappingProxyType(merged))
    try:
        yield
    finally:
        _bound.reset(token)

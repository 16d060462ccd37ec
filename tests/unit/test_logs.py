"""Log lines say what they are about (platform, program, event), in text or JSON."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.logs import configure_logging
from core import logs

log = logging.getLogger("tests.logs")


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """configure_logging's JSON lines, in a buffer; the root logger as it was afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    stream = io.StringIO()
    configure_logging("json", stream=stream)
    yield stream
    root.handlers[:] = handlers
    root.setLevel(level)


def lines(stream: io.StringIO) -> list[dict[str, str]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_json_line_carries_what_was_bound_and_nothing_unbound(captured: io.StringIO):
    log.info("before anything is bound")
    with logs.bound(platform="slack", program="slack:T1", event="Ev1"):
        log.warning("a %s line", "bound")
        with logs.bound(event="Ev2"):
            log.info("inner")
    log.info("after")

    first, bound, inner, after = lines(captured)
    assert set(first) == {"time", "level", "logger", "message"}
    assert bound | {"time": ""} == {
        "time": "",
        "level": "WARNING",
        "logger": "tests.logs",
        "message": "a bound line",
        "platform": "slack",
        "program": "slack:T1",
        "event": "Ev1",
    }
    assert (inner["program"], inner["event"]) == ("slack:T1", "Ev2")
    assert "event" not in after


def test_a_traceback_is_one_field_of_one_line(captured: io.StringIO):
    empty: dict[str, int] = {}
    try:
        empty["x"]  # the lookup is the failure
    except KeyError:
        log.exception("it failed")

    (line,) = lines(captured)
    assert line["message"] == "it failed"
    assert "KeyError" in line["exception"]


async def test_a_task_started_inside_keeps_the_binding(captured: io.StringIO):
    async def later() -> None:
        await asyncio.sleep(0)
        log.info("in the background")

    with logs.bound(platform="teams", program="teams:t1", event="a1"):
        task = asyncio.ensure_future(later())
    log.info("outside")
    await task

    outside, background = lines(captured)
    assert "program" not in outside
    assert (background["platform"], background["event"]) == ("teams", "a1")


def test_text_names_the_binding_at_the_end():
    root = logging.getLogger()
    handlers = list(root.handlers)
    stream = io.StringIO()
    try:
        configure_logging("text", stream=stream)
        with logs.bound(platform="web", program="web:demo", event="say-1"):
            log.info("hello")
    finally:
        root.handlers[:] = handlers
    assert (
        stream.getvalue()
        .rstrip()
        .endswith("INFO tests.logs: hello [platform=web program=web:demo event=say-1]")
    )


def test_only_known_fields_are_bound():
    with pytest.raises(TypeError), logs.bound(text="what someone wrote"):
        pass

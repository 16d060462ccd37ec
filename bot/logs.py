"""Logging, configured once: ``configure_logging()`` at start-up.

Each record carries the platform, program and event bound where its request started
(``core.logs``). ``PAIRTIME_LOG_FORMAT=json`` writes one JSON object per line (time,
level, logger, message, the bound fields, and a traceback when there is one), for a log
pipeline; the default, text, is for people. Nothing here adds a secret: messages are the
code's own, and the bound fields are ids.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

from core import logs

LogFormat = Literal["text", "json"]
TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s%(bound)s"

_base_factory = logging.getLogRecordFactory()


def _record_with_context(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record = _base_factory(*args, **kwargs)
    context = logs.current()
    for name in logs.FIELDS:
        setattr(record, name, context.get(name))
    record.bound = " [" + " ".join(f"{k}={v}" for k, v in context.items()) + "]" if context else ""
    return record


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(TEXT)

    def format(self, record: logging.LogRecord) -> str:
        record.__dict__.setdefault("bound", "")  # a record made before configure_logging
        return super().format(record)


class JsonFormatter(logging.Formatter):
    """One JSON object per record; the bound fields only when known."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in logs.FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure_logging(
    log_format: LogFormat = "text", *, level: int = logging.INFO, stream: TextIO | None = None
) -> logging.Handler:
    """Send every log line to ``stream`` (standard error) in ``log_format``; returns the
    handler. Calling it again replaces what it configured before."""
    logging.setLogRecordFactory(_record_with_context)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "pairtime", False)]:
        root.removeHandler(old)
    handler.pairtime = True  # type: ignore[attr-defined] # ours, to replace next time
    root.addHandler(handler)
    root.setLevel(level)
    return handler

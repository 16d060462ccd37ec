"""The demo program of the playground (being built: see issue 9)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.settings import Settings
from storage.store import Storage


@dataclass
class Demo:
    """A running demo: its CalDAV server's address, stopped by :meth:`close`."""

    caldav_url: str

    async def close(self) -> None:
        raise NotImplementedError


async def start_demo(settings: Settings, storage: Storage, folder: Path) -> Demo:
    raise NotImplementedError("the demo program is not built yet")

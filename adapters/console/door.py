"""core's ConsoleSignIn port: who may sign in, and the single-use links that do it."""

from __future__ import annotations

from urllib.parse import urlencode

from core.people import ChatIdentity, PersonId, ProgramId
from core.ports import Clock
from storage.repositories.console import SqlConsole
from storage.repositories.programs import SqlPrograms
from storage.repositories.tracks import SqlTracks

SIGN_IN_PATH = "/console/sign-in"


class ConsoleDoor:
    def __init__(
        self,
        console: SqlConsole,
        programs: SqlPrograms,
        tracks: SqlTracks,
        base_url: str,
        clock: Clock,
    ) -> None:
        self._console = console
        self._programs = programs
        self._tracks = tracks
        self._base_url = base_url.rstrip("/")
        self._clock = clock

    async def may_sign_in(self, program: ProgramId, person: PersonId) -> bool:
        if await self._programs.is_admin(program, person):
            return True
        return any(p == person for p, _ in await self._tracks.admins(program))

    async def link(self, program: ProgramId, identity: ChatIdentity, person: PersonId) -> str:
        token = await self._console.issue_link(program, person, identity, self._clock.now())
        return f"{self._base_url}{SIGN_IN_PATH}?{urlencode({'token': token})}"

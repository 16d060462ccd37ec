"""Single-use connect links: core's ConnectLinks port."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlencode

from core.commands import Provider
from core.people import ChatIdentity, PersonId
from core.ports import Clock
from storage.repositories.connections import SqlConnectStates


class ConnectLinkIssuer:
    def __init__(
        self,
        states: SqlConnectStates,
        base_url: str,
        available: frozenset[Provider],
        clock: Clock,
    ) -> None:
        self._states = states
        self._base_url = base_url.rstrip("/")
        self._available = available
        self._clock = clock

    @property
    def available(self) -> frozenset[Provider]:
        return self._available

    async def links(
        self, identity: ChatIdentity, person: PersonId, providers: Sequence[Provider]
    ) -> list[str]:
        """``BASE_URL/connect/{provider}?state=…`` each: 15 minutes, single use, bound to
        ``identity``."""
        states = await self._states.issue(identity, person, providers, self._clock.now())
        return [
            f"{self._base_url}/connect/{provider.value}?{urlencode({'state': state})}"
            for provider, state in zip(providers, states, strict=True)
        ]

    async def link(self, identity: ChatIdentity, person: PersonId, provider: Provider) -> str:
        """One link (what a test or an admin tool needs)."""
        (url,) = await self.links(identity, person, [provider])
        return url

"""iCloud, or any CalDAV server, with an Apple ID and an app-specific password.

iCloud answers no free-busy query, so events in the window are read with a
calendar-query and expanded here (see ``ical``). Credentials are checked
against the server before anything is stored, and kept sealed by storage.

The caldav library (with niquests and urllib3 under it) and the event expansion are
imported at the first connection or read, not at start-up: they are a large share of a
server's start-up CPU, and many servers never read an iCloud calendar.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt

from adapters.calendars.errors import (
    BadAnswer,
    GrantRevoked,
    ProviderError,
    ProviderUnavailable,
    WrongCredentials,
)
from adapters.calendars.http import Deadline
from adapters.calendars.reader import EachPerson, Read, Reading, ReadResult
from core.calendars import BusyTimes
from core.commands import Provider
from core.time import Interval
from storage.repositories.connections import StoredConnection

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from caldav.aio import AsyncDAVClient

    from adapters.calendars.ical import Entry

SERVICE = "iCloud"


def _dropped(error: BaseException) -> bool:
    return isinstance(error, OSError) and not isinstance(error, TimeoutError)


def _one_more_try() -> AsyncRetrying:
    """A server may drop a kept-alive connection just as it is reused: one more try on a
    fresh connection, within the same deadline (a timeout has used the time up: no more)."""
    return AsyncRetrying(
        retry=retry_if_exception(_dropped), stop=stop_after_attempt(2), reraise=True
    )


class CalDavCalendars(EachPerson):
    """The CalDAV provider: verifying credentials and reading busy times."""

    service = SERVICE
    provider = Provider.ICLOUD

    def __init__(
        self, url: str, *, ca_bundle: str | None = None, timeout_seconds: float = 5
    ) -> None:
        self._url = url
        self._verify: bool | str = ca_bundle or True
        self._timeout = timeout_seconds

    def _client(
        self, username: str, password: str, statuses: list[int] | None = None
    ) -> AsyncDAVClient:
        """A client; with ``statuses``, each HTTP status it receives is appended there, so
        that an answer caldav cannot parse is reported with the status it came with."""
        from caldav.aio import AsyncDAVClient  # noqa: PLC0415 - see the module's docstring

        client = AsyncDAVClient(
            url=self._url,
            username=username,
            password=password,
            timeout=max(1, round(self._timeout)),
            ssl_verify_cert=self._verify,
            enable_rfc6764=False,
            # Send the credentials at once (iCloud uses Basic over TLS) instead of waiting
            # for a 401 challenge: one round trip less per calendar read.
            auth_type="basic",
        )
        if statuses is not None:
            _record_statuses(client, statuses)
        return client

    async def verify(self, apple_id: str, password: str) -> dict[str, Any]:
        """The secret to store once the server accepted ``apple_id`` and ``password``."""
        from caldav.lib.error import AuthorizationError, DAVError  # noqa: PLC0415 - as above

        try:
            async with asyncio.timeout(self._timeout), self._client(apple_id, password) as client:
                principal = await client.get_principal()
                calendars = await client.get_calendars(principal)
        except AuthorizationError:
            raise WrongCredentials(
                "iCloud did not accept that Apple ID and app-specific password"
            ) from None
        except (TimeoutError, DAVError, OSError) as error:
            raise ProviderUnavailable(
                f"{SERVICE} could not be reached ({type(error).__name__})"
            ) from None
        if not calendars:
            raise ProviderError("that account has no calendars to read")
        # Keeping the calendars' addresses saves two round trips on every later read.
        return {
            "username": apple_id,
            "password": password,
            "calendars": [str(calendar.url) for calendar in calendars],
        }

    async def _read_one(self, reading: Reading, window: Interval, deadline: Deadline) -> ReadResult:
        from caldav.lib.error import AuthorizationError, DAVError  # noqa: PLC0415 - as above

        from adapters.calendars.ical import busy_from_ical  # noqa: PLC0415 - as above

        secret = reading.connection.secret
        known = list(secret.get("calendars") or [])
        texts: list[str] = []
        statuses: list[int] = []

        async def events() -> tuple[list[str], list[str]]:
            async with asyncio.timeout(max(deadline.remaining(), 0.001)):
                return await self._events(secret, known, window, statuses)

        try:
            known, texts = await _one_more_try()(events)
        except AuthorizationError:
            # The app-specific password was revoked at appleid.apple.com.
            return GrantRevoked("the app-specific password no longer works")
        except (OSError, DAVError) as error:  # OSError: TimeoutError among others
            return ProviderUnavailable(f"{SERVICE} did not answer ({type(error).__name__})")
        except BadAnswer as error:
            return error
        except Exception as error:  # noqa: BLE001 - an answer caldav could not make sense of
            # Not XML, a truncated multistatus: this person's calendar, not everyone's.
            return BadAnswer(SERVICE, statuses[-1] if statuses else None, type(error).__name__)
        # Parsing and expanding events is CPU work: off the event loop, so that a large
        # calendar never delays other requests' answers.
        busy = BusyTimes(
            tuple(await asyncio.to_thread(busy_from_ical, texts, window, reading.zone))
        )
        if known != secret.get("calendars"):
            return Read(busy, {**secret, "calendars": known})
        return Read(busy)

    async def agenda(
        self, username: str, password: str, window: Interval, zone: ZoneInfo
    ) -> list[Entry]:
        """The owner's own events over ``window``, titled, read as :meth:`read` reads them
        (the same query and expansion), each with the busy time Pairtime takes from it.

        For the playground's calendar view of a demo person; errors are caldav's own.
        """
        from adapters.calendars.ical import entries_from_ical  # noqa: PLC0415 - as above

        secret = {"username": username, "password": password}
        async with asyncio.timeout(self._timeout):
            _, texts = await self._events(secret, [], window, [])
        return await asyncio.to_thread(entries_from_ical, texts, window, zone)

    async def _events(
        self, secret: Mapping[str, Any], known: list[str], window: Interval, statuses: list[int]
    ) -> tuple[list[str], list[str]]:
        """The calendars' addresses and their events' iCalendar texts over ``window``."""
        from caldav.lib.error import NotFoundError  # noqa: PLC0415 - see the module's docstring

        if known:
            try:
                return known, await self._search(secret, known, window, statuses)
            except NotFoundError:
                pass  # a calendar was deleted or moved: look them up again
        async with self._client(secret["username"], secret["password"], statuses) as client:
            principal = await client.get_principal()
            found = [str(c.url) for c in await client.get_calendars(principal)]
        return found, await self._search(secret, found, window, statuses)

    async def _search(
        self,
        secret: Mapping[str, Any],
        urls: Sequence[str],
        window: Interval,
        statuses: list[int],
    ) -> list[str]:
        """The events of every calendar in ``urls`` over ``window``, asked for concurrently.

        One client per calendar: caldav's async client does not share its
        connection pool between concurrent requests.
        """
        from caldav.aio import Calendar  # noqa: PLC0415 - see the module's docstring
        from caldav.lib.error import DAVError  # noqa: PLC0415 - as above

        async def events(url: str) -> list[str]:
            # Its own statuses: the calendars are read at once, so another's may come last.
            mine: list[int] = []
            try:
                async with self._client(secret["username"], secret["password"], mine) as client:
                    found = await client.search_calendar(
                        # caldav's Calendar serves both clients; its annotation names the sync
                        # one.
                        Calendar(client=client, url=url),  # type: ignore[arg-type]
                        event=True,
                        start=window.start,
                        end=window.end,
                        # busy_from_ical expands and filters by time itself; caldav's
                        # client-side re-check would parse every event a second time, on the
                        # event loop.
                        post_filter=False,
                    )
            except (DAVError, OSError, TimeoutError):
                raise
            except Exception as error:
                raise BadAnswer(
                    SERVICE, mine[-1] if mine else None, type(error).__name__
                ) from error
            finally:
                statuses.extend(mine)
            return [item.data for item in found if item.data]

        texts = await asyncio.gather(*(events(url) for url in urls))
        return [text for calendar in texts for text in calendar]

    async def revoke(self, connection: StoredConnection) -> None:
        """Nothing to call: app-specific passwords are revoked by their owner at Apple."""
        del connection


def _record_statuses(client: AsyncDAVClient, statuses: list[int]) -> None:
    """Append each response's status to ``statuses``, through the HTTP library's hook
    (niquests' ``hooks``, or httpx's ``event_hooks`` where caldav runs on httpx)."""

    def record(response: Any, *_args: Any, **_kwargs: Any) -> Any:
        status = getattr(response, "status_code", None)
        if isinstance(status, int):
            statuses.append(status)
        return response

    async def record_async(response: Any) -> None:
        record(response)

    session = client.session
    hooks = getattr(session, "hooks", None)
    if isinstance(hooks, dict) and isinstance(hooks.get("response"), list):
        hooks["response"].append(record)
        return
    event_hooks = getattr(session, "event_hooks", None)
    if isinstance(event_hooks, dict) and isinstance(event_hooks.get("response"), list):
        event_hooks["response"].append(record_async)

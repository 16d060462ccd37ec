"""Building Pairtime's objects from settings, once the event loop runs.

Tests call the same function with their own settings (fake service URLs, a
temporary database), so the app they drive is the app that runs.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import aiohttp

from adapters.calendars.cache import BusyCache
from adapters.calendars.caldav import CalDavCalendars
from adapters.calendars.connect import ConnectFlows, OAuthFlow
from adapters.calendars.links import ConnectLinkIssuer
from adapters.calendars.organisation.base import OrganisationClient
from adapters.calendars.organisation.reading import OrganisationReader
from adapters.calendars.organisation.writing import OrganisationPublisher
from adapters.calendars.reader import CalendarReader, ProviderClient
from adapters.console.door import ConsoleDoor
from bot.settings import Settings
from bot.worker import CONCURRENCY, Worker
from core import logs
from core.actions import ActionCodec
from core.calendars import CalendarConnection
from core.commands import Provider
from core.jobs import Job
from core.organisation import OrgProvider
from core.people import CrowdedChannel, Person, Platform, ProgramId, platform_of, program_of
from core.ports import ChannelMembers, Clock, Messenger
from core.scheduling import Ports, Scheduler
from core.scheduling.recent import DRAWING_GAP_SECONDS, Recent
from core.views import Outcome
from storage.repositories.connections import ConnectTicket
from storage.repositories.organisations import REVOKED_JOB, WRITE_REFUSED_JOB
from storage.store import Storage

log = logging.getLogger(__name__)

# Connections the one outbound session opens at once (aiohttp's default is 100). Each of the
# worker's jobs may hold several: a pair's command reads two calendars, then posts to Slack.
HTTP_CONNECTIONS = 4 * CONCURRENCY


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ChatMessengers:
    """Delivers messages Pairtime sends first, through the platform of each program."""

    def __init__(self) -> None:
        self._by_platform: dict[Platform, Messenger] = {}

    def register(self, platform: Platform, messenger: Messenger) -> None:
        self._by_platform[platform] = messenger

    async def deliver(self, program: ProgramId, outcome: Outcome) -> bool:
        platform = platform_of(program)
        with logs.bound(platform=platform.value if platform else None, program=program):
            return await self._deliver(program, platform, outcome)

    async def _deliver(
        self, program: ProgramId, platform: Platform | None, outcome: Outcome
    ) -> bool:
        messenger = self._by_platform.get(platform) if platform is not None else None
        if messenger is None:
            log.info(
                "no %s adapter is running; %d message(s) not sent",
                platform.value if platform else "chat",
                len(outcome.direct),
            )
            return True  # nothing to try again: the configuration decides
        return await messenger.deliver(program, outcome)


class ChatChannelMembers:
    """Lists a channel's members through the platform of each program (core's one port)."""

    def __init__(self) -> None:
        self._by_platform: dict[Platform, ChannelMembers] = {}

    def register(self, platform: Platform, members: ChannelMembers) -> None:
        self._by_platform[platform] = members

    async def members(
        self, program: ProgramId, channel: str, *, limit: int
    ) -> Sequence[Person] | CrowdedChannel | None:
        """None when no adapter of the program's platform runs here: core then asks whom to
        invite, as it does when a platform cannot list the channel."""
        platform = platform_of(program)
        if platform is None:
            return None
        members = self._by_platform.get(platform)
        if members is None:
            log.info("no %s adapter is running; channel members not listed", platform.value)
            return None
        return await members.members(program, channel, limit=limit)


@dataclass
class Services:
    """Everything the routes use, built once the event loop runs."""

    settings: Settings
    storage: Storage
    clock: Clock
    http: aiohttp.ClientSession
    reader: CalendarReader
    links: ConnectLinkIssuer
    scheduler: Scheduler
    messengers: ChatMessengers
    channel_members: ChatChannelMembers
    flows: ConnectFlows
    worker: Worker
    organisations: OrganisationReader
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    async def close(self) -> None:
        for close in self.closers:
            await close()


def build_services(
    settings: Settings, storage: Storage, http: aiohttp.ClientSession, clock: Clock | None = None
) -> Services:
    clock = clock or SystemClock()
    calendars = settings.calendars
    caldav = CalDavCalendars(
        calendars.caldav_url,
        ca_bundle=calendars.ca_bundle,
        timeout_seconds=calendars.timeout_seconds,
    )
    clients: dict[Provider, ProviderClient] = {Provider.ICLOUD: caldav}
    oauth: dict[Provider, OAuthFlow] = {}
    # Each provider's library (google-auth, msal) is imported only when it is configured.
    if calendars.google_enabled:
        from adapters.calendars.google import GoogleCalendars  # noqa: PLC0415 - see above

        google = GoogleCalendars(calendars, http)
        clients[Provider.GOOGLE] = google
        oauth[Provider.GOOGLE] = google
    microsoft = None
    if calendars.microsoft_enabled:
        from adapters.calendars.microsoft import MicrosoftCalendars  # noqa: PLC0415 - see above

        microsoft = MicrosoftCalendars(calendars, http)
        clients[Provider.MICROSOFT] = microsoft
        oauth[Provider.MICROSOFT] = microsoft
    organisations = organisation_reader(settings, storage, http, clock)
    reader = CalendarReader(
        storage.connections,
        clients,
        clock,
        timeout_seconds=calendars.timeout_seconds,
        organisations=organisations,
        cache=BusyCache(calendars.cache_seconds),
    )
    links = ConnectLinkIssuer(
        storage.connect_states, settings.base_url, frozenset(clients) | frozenset(oauth), clock
    )
    # The encryption keys also sign button references, after derivation (see core.actions).
    keys = [key.encode() for key in storage.vault.secret_keys()]
    channel_members = ChatChannelMembers()  # each chat adapter registers once it starts
    mailer = None
    if settings.mail is not None:
        from adapters.mail.smtp import SmtpMailer  # noqa: PLC0415 - only when email is on

        mailer = SmtpMailer(settings.mail, clock)
    ports = Ports(
        clock=clock,
        people=storage.people,
        pairings=storage.pairings,
        groups=storage.groups,
        programs=storage.programs,
        connections=reader,
        busy=reader,
        links=links,
        offers=storage.offers,
        meetings=storage.meetings,
        polls=storage.polls,
        channel_members=channel_members,
        actions=ActionCodec(keys),
        jobs=storage.jobs,
        organisations=storage.organisations,
        mailer=mailer,
        publisher=OrganisationPublisher(storage.organisations, organisations.writer, clock),
        program_events=storage.program_events,
        personal_data=storage.personal_data,
        console=ConsoleDoor(
            storage.console, storage.programs, storage.tracks, settings.base_url, clock
        ),
        recent=Recent(clock, gap=DRAWING_GAP_SECONDS),
    )
    scheduler = Scheduler(ports)
    messengers = ChatMessengers()

    async def on_connected(ticket: ConnectTicket, summary: CalendarConnection) -> None:
        reader.forget(ticket.person)
        outcome = scheduler.calendar_connected(ticket.person, summary.provider, summary.account)
        await messengers.deliver(program_of(ticket.identity), outcome)

    flows = ConnectFlows(
        base_url=settings.base_url,
        states=storage.connect_states,
        connections=storage.connections,
        people=storage.people,
        programs=storage.programs,
        clock=clock,
        oauth=oauth,
        caldav=caldav,
        on_connected=on_connected,
    )
    closers: list[Callable[[], Awaitable[None]]] = [microsoft.close] if microsoft else []
    closers.append(organisations.close)
    worker = Worker(storage.jobs, clock)

    async def tell_admins(job: Job) -> None:
        program = ProgramId(job.payload["program"])
        outcome = await scheduler.organisation_revoked(
            program, OrgProvider(job.payload["provider"])
        )
        await messengers.deliver(program, outcome)

    async def tell_admins_no_writes(job: Job) -> None:
        program = ProgramId(job.payload["program"])
        outcome = await scheduler.organisation_write_refused(
            program, OrgProvider(job.payload["provider"]), str(job.payload.get("reason", ""))
        )
        await messengers.deliver(program, outcome)

    worker.handle(REVOKED_JOB, tell_admins)
    worker.handle(WRITE_REFUSED_JOB, tell_admins_no_writes)
    return Services(
        settings,
        storage,
        clock,
        http,
        reader,
        links,
        scheduler,
        messengers,
        channel_members,
        flows,
        worker,
        organisations,
        closers,
    )


def organisation_reader(
    settings: Settings, storage: Storage, http: aiohttp.ClientSession, clock: Clock
) -> OrganisationReader:
    """Organisation connections' reader; each kind's client (and its library) is made the
    first time a connection of that kind is read or set up."""
    calendars = settings.calendars

    def google() -> OrganisationClient:
        from adapters.calendars.organisation.google_workspace import (  # noqa: PLC0415 - lazily
            GoogleWorkspace,
        )

        return GoogleWorkspace(calendars, http)

    def microsoft() -> OrganisationClient:
        from adapters.calendars.organisation.microsoft365 import (  # noqa: PLC0415 - lazily
            Microsoft365,
        )

        return Microsoft365(calendars, http, settings.base_url)

    def exchange() -> OrganisationClient:
        from adapters.calendars.organisation.exchange import (  # noqa: PLC0415 - lazily
            ExchangeServer,
        )

        return ExchangeServer(calendars)

    return OrganisationReader(
        storage.organisations,
        storage.people,
        {
            OrgProvider.GOOGLE: google,
            OrgProvider.MICROSOFT: microsoft,
            OrgProvider.EXCHANGE: exchange,
        },
        clock,
    )


def http_session(settings: Settings) -> aiohttp.ClientSession:
    """The one outbound HTTP session; trusts PAIRTIME_CA_BUNDLE too when it is set.

    Without one it uses aiohttp's own verifying context (``ssl=True``: the system's
    certificates, as ``ssl.create_default_context()``), which aiohttp made when it was
    imported: a second one would load the certificates again, at every start."""
    context: ssl.SSLContext | bool = True
    if settings.calendars.ca_bundle:
        context = ssl.create_default_context()
        context.load_verify_locations(settings.calendars.ca_bundle)
    connector = aiohttp.TCPConnector(ssl=context, limit=HTTP_CONNECTIONS)
    return aiohttp.ClientSession(connector=connector)

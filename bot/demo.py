"""The playground's demo program: five people in five time zones, with real calendars.

:func:`start_demo` runs whenever the playground is on (``pairtime serve`` with no
chat credentials):

* A Radicale CalDAV server starts in this process on a free localhost port (a
  threaded WSGI server; htpasswd users with plain passwords; its data under
  ``folder/demo-caldav``). It stands in for iCloud, so connecting, reading and
  disconnecting a calendar on the page are the real flows.
* The demo calendars' events are written again at every start, and every six
  hours while running, relative to today in each person's own zone: weekly
  meetings (RRULE, started weeks ago, never ending), an all-day event and an
  out-of-office day (``X-MICROSOFT-CDO-BUSYSTATUS:OOF``) placed in next week.
  Each event keeps a fixed UID, so writing it again replaces it: "next week"
  always looks like a real busy week, and nothing piles up.
* When the operator set no ``PAIRTIME_SMTP_URL``, an SMTP server starts in this process
  too (``bot.demo_mail``: aiosmtpd on 127.0.0.1, a free port) and Pairtime's invitations
  go to it: each demo person's inbox, on the page beside the chat. Nothing leaves the
  machine.
* The database is seeded once, when the program ``web:demo`` is missing (or a
  seed was interrupted: every step is idempotent and the circle, created last,
  marks it done): people, pairs, a circle meeting in the channel ``circle``, an
  admin, and calendar connections for everyone but Priya, left for the newcomer
  to connect. What people then do (meetings, polls, connections) persists
  between restarts. Stored calendar addresses follow the server's new port at
  each start.

:func:`reset_demo` (``pairtime demo reset``) deletes the program's data and
calendars and seeds both again, and empties the inboxes.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import threading
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from zoneinfo import ZoneInfo

import aiohttp
import radicale.config
from icalendar import Calendar, Event
from radicale.app import Application
from sqlalchemy import delete, select

from adapters.mail.config import MailSettings, Security
from adapters.web.program import DEMO_PASSWORD, PROGRAM, identity
from bot.bootstrap import StartupError, open_storage, prepare_database
from bot.demo_mail import (
    DemoDeskService,
    DemoMailServer,
    Mailboxes,
    calendar_url,
    empty_inboxes,
)
from bot.settings import Settings
from core.commands import Provider
from core.invitations import Mailbox
from core.people import PersonId, Profile
from storage import models
from storage.repositories.sql import affected
from storage.store import Storage

log = logging.getLogger(__name__)

DOMAIN = "pairtime-demo.example"  # .example is reserved: these addresses reach nobody
PROGRAM_NAME = "Pairtime demo"
SENDER = Mailbox(PROGRAM_NAME, f"pairtime@{DOMAIN}")  # PAIRTIME_MAIL_FROM of the demo's mail
REFRESH = timedelta(hours=6)
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
WORKDAYS = WEEKDAYS[:5]
SERIES_WEEKS = 4  # weekly meetings started this many weeks before this one
WRITTEN = "written.json"  # beside the CalDAV server's own folders: the week last written


@dataclass(frozen=True, slots=True)
class Weekly:
    """A meeting every week on ``days``, at a local wall-clock time."""

    uid: str
    summary: str
    days: tuple[str, ...]
    start: time
    minutes: int


@dataclass(frozen=True, slots=True)
class NextWeek:
    """One event next week, on ``weekday`` (0 is Monday); all day when ``start`` is None."""

    uid: str
    summary: str
    weekday: int
    start: time | None = None
    minutes: int = 0
    out_of_office: bool = False
    marked_free: bool = False  # TRANSP:TRANSPARENT, as phones and Google make all-day events


@dataclass(frozen=True, slots=True)
class DemoPerson:
    user_id: str
    name: str
    zone: str
    connected: bool  # seeded with a calendar connection
    events: tuple[Weekly | NextWeek, ...]

    @property
    def email(self) -> str:
        """Also their demo Apple ID."""
        return f"{self.name.lower().replace(' ', '.')}@{DOMAIN}"


PEOPLE = (
    DemoPerson(
        "maria",
        "Maria Lopez",
        "Europe/London",
        connected=True,
        events=(
            Weekly("standup", "Team stand-up", WORKDAYS, time(9, 30), 15),
            Weekly("design-review", "Design review", ("TU", "TH"), time(14), 90),
            NextWeek("lunch-and-learn", "Lunch and learn", 2, time(12), 60),
            NextWeek("out-of-office", "Out of office", 4, out_of_office=True),
        ),
    ),
    DemoPerson(
        "sam",
        "Sam Carter",
        "America/New_York",
        connected=True,
        events=(
            Weekly("scrum", "Daily scrum", WORKDAYS, time(9), 15),
            Weekly("product-sync", "Product sync", ("MO", "WE"), time(11), 60),
            NextWeek("dentist", "Dentist", 1, time(13), 60),
            NextWeek("workshop", "Customer workshop", 3),
        ),
    ),
    DemoPerson(
        "jonas",
        "Jonas Weber",
        "Europe/Berlin",
        connected=True,
        events=(
            Weekly("planning", "Weekly planning", ("MO",), time(9), 90),
            Weekly("focus", "Focus time", ("TU", "TH"), time(13), 120),
            Weekly("one-to-one", "1:1 with Lena", ("WE",), time(16), 30),
            NextWeek("conference", "Berlin tech conference", 1, marked_free=True),
        ),
    ),
    DemoPerson(
        "priya",
        "Priya Nair",
        "Asia/Kolkata",  # UTC+05:30
        connected=False,
        events=(
            Weekly("sprint-planning", "Sprint planning", ("MO",), time(10), 60),
            Weekly("team-sync", "Team sync", ("TU", "TH"), time(15), 30),
            NextWeek("day-off", "Day off", 2, out_of_office=True),
        ),
    ),
    DemoPerson(
        "beatriz",
        "Beatriz Costa",
        "America/Sao_Paulo",
        connected=True,
        events=(
            Weekly("standup", "Stand-up", WORKDAYS, time(9), 15),
            Weekly("client-calls", "Client calls", ("WE", "FR"), time(14), 120),
            NextWeek("quarterly-review", "Quarterly review", 1, time(10), 120),
            NextWeek("out-of-office", "Out of office", 0, out_of_office=True),
        ),
    ),
)
PAIRS = (("maria", "sam"), ("jonas", "priya"))  # (mentor, mentee)
ADMIN = "maria"
CIRCLE_NAME = "Leadership Circle"
CIRCLE_CHANNEL = "circle"
CIRCLE = ("beatriz", "jonas", "maria")


# ---------------------------------------------------------------- the running demo


@dataclass
class Demo:
    """A running demo: its CalDAV server's address, the mail settings of its own SMTP
    server (None when the operator set theirs), the people's inboxes and calendars for the
    page; stopped by :meth:`close`."""

    caldav_url: str
    mail: MailSettings | None
    desk: DemoDeskService
    _server: CalDavServer = field(repr=False)
    _mail_server: DemoMailServer | None = field(default=None, repr=False)
    _refresher: asyncio.Task[None] | None = field(default=None, repr=False)

    async def close(self) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresher
        if self._mail_server is not None:
            await self._mail_server.stop()
        await asyncio.to_thread(self._server.stop)


async def start_demo(settings: Settings, storage: Storage, folder: Path) -> Demo:
    """Start the demo's CalDAV server (and SMTP server, unless the operator set one), write
    its calendars for this week, seed the program."""
    if settings.is_production:  # settings never enable the playground there; make sure
        raise StartupError("the playground's demo never runs in production")
    calendars = folder / "demo-caldav"
    server = CalDavServer(calendars)
    url = await asyncio.to_thread(server.start)
    own_mail = settings.mail is None
    mailboxes = Mailboxes(folder)
    desk = DemoDeskService(
        mailboxes,
        url,
        DEMO_PASSWORD,
        [person.email for person in PEOPLE],
        local_mail=own_mail,
    )
    mail_server = DemoMailServer(desk.receive) if own_mail else None
    mail = None
    try:
        if mail_server is not None:
            await mail_server.start()
            mail = MailSettings("127.0.0.1", mail_server.port, Security.NONE, SENDER)
        # Written this week already, they would be written the same: a restart skips them.
        if not await asyncio.to_thread(written_this_week, calendars):
            await write_calendars(url, marker=calendars)
        seeded = await seed_program(storage)
        await follow_server(storage, url)
    except BaseException:
        if mail_server is not None:
            await mail_server.stop()
        await asyncio.to_thread(server.stop)
        raise
    log.info(
        "Playground demo %s: %d people, calendars on a local CalDAV server%s",
        "seeded" if seeded else "ready",
        len(PEOPLE),
        ", inboxes on a local SMTP server" if mail_server is not None else "",
    )
    refresher = asyncio.create_task(_keep_current(url, calendars), name="pairtime-demo")
    return Demo(url, mail, desk, server, mail_server, refresher)


async def reset_demo(settings: Settings, folder: Path) -> str:
    """Delete the demo program's data and calendars, then seed both again.

    ``folder`` is the local state folder ``pairtime serve`` uses (``.pairtime``
    in the working directory): the demo calendars live there, and so does the
    development encryption key when ``PAIRTIME_ENCRYPTION_KEYS`` is not set.
    A running ``pairtime serve`` carries on: its calendar addresses are found
    again on the next read, and old buttons on its page answer that they expired.
    """
    if settings.is_production:
        raise StartupError("the playground's demo never runs in production")
    storage = open_storage(settings, folder.parent)
    try:
        await prepare_database(storage.database, migrate_if_behind=False, vault=storage.vault)
        removed = await forget_program(storage)
        await asyncio.to_thread(empty_inboxes, folder)
        async with running_caldav(folder / "demo-caldav") as url:
            await write_calendars(url, fresh=True, marker=folder / "demo-caldav")
        await seed_program(storage)
    finally:
        await storage.close()
    connected = sum(person.connected for person in PEOPLE)
    return (
        f"Reset the demo program: deleted its data ({removed} people known only there), then "
        f"seeded {len(PEOPLE)} people, {len(PAIRS)} pairs, 1 circle, {connected} calendar "
        "connections, and their calendars; emptied their inboxes."
    )


async def _keep_current(url: str, marker: Path) -> None:
    """Write the calendars again now and then, so a server left running stays current."""
    while True:
        await asyncio.sleep(REFRESH.total_seconds())
        try:
            await write_calendars(url, marker=marker)
        except DemoError as error:
            log.warning("could not refresh the demo calendars: %s", error)


# ---------------------------------------------------------------- the database


async def seed_program(storage: Storage) -> bool:
    """Seed ``web:demo`` unless it is there already; True when it seeded."""
    if PROGRAM in await storage.programs.known() and await storage.groups.by_channel(
        PROGRAM, CIRCLE_CHANNEL
    ):
        return False
    now = datetime.now(UTC)
    await storage.programs.ensure(PROGRAM, PROGRAM_NAME)
    ids: dict[str, PersonId] = {}
    for demo in PEOPLE:
        person = await storage.people.remember(
            PROGRAM,
            identity(demo.user_id),
            Profile(demo.name, demo.email, demo.zone, handle=demo.user_id),
        )
        ids[demo.user_id] = person.id
        if demo.connected and await storage.connections.get(person.id) is None:
            # No calendar address yet: the first read finds it on whichever server runs.
            secret = {"username": demo.email, "password": DEMO_PASSWORD, "calendars": []}
            await storage.connections.replace(person.id, Provider.ICLOUD, demo.email, secret, now)
    for mentor, mentee in PAIRS:
        await storage.pairings.pair(PROGRAM, ids[mentor], ids[mentee])
    await storage.programs.grant_admin(PROGRAM, ids[ADMIN])
    # Last: the circle marks the seed as done.
    await storage.groups.create(
        PROGRAM, CIRCLE_NAME, [ids[user] for user in CIRCLE], channel=CIRCLE_CHANNEL
    )
    return True


async def follow_server(storage: Storage, url: str) -> None:
    """Point the demo people's stored calendar addresses at this start's server (new port)."""
    people = [person.id for person, _ in await storage.people.list_program(PROGRAM)]
    loaded = await storage.connections.load(people)
    now = datetime.now(UTC)
    for person, stored in loaded.opened.items():
        demo_account = str(stored.secret.get("username", "")).endswith(f"@{DOMAIN}")
        if stored.summary.provider is not Provider.ICLOUD or not demo_account:
            continue
        before = list(stored.secret.get("calendars") or [])
        after = [_moved(address, url) for address in before]
        if after != before:
            secret = {**stored.secret, "calendars": after}
            await storage.connections.update_secret(person, Provider.ICLOUD, secret, now)


def _moved(address: str, server: str) -> str:
    old, new = urlsplit(address), urlsplit(server)
    return urlunsplit((new.scheme, new.netloc, old.path, old.query, old.fragment))


async def forget_program(storage: Storage) -> int:
    """Delete ``web:demo`` and everyone known only there; returns how many people.

    Their connections, offers, meetings, polls and votes go with them and the
    program (the schema cascades); someone also known in another program stays.
    """
    identities = models.ChatIdentity
    only_here = (
        delete(models.Person)
        .where(
            models.Person.id.in_(
                select(identities.person_id).where(identities.program_id == PROGRAM)
            )
        )
        .where(
            models.Person.id.not_in(
                select(identities.person_id).where(identities.program_id != PROGRAM)
            )
        )
    )
    async with storage.database.transaction() as session:
        removed = affected(await session.execute(only_here))
        await session.execute(delete(models.Program).where(models.Program.id == PROGRAM))
    return removed


# ---------------------------------------------------------------- the calendars


class DemoError(StartupError):
    """The demo's calendars could not be written (``pairtime`` says so in one line)."""


async def write_calendars(url: str, *, fresh: bool = False, marker: Path | None = None) -> None:
    """Write every demo calendar's events (``fresh``: delete the calendars first); once they
    are all written, note in ``marker`` (the CalDAV server's folder) for which week."""
    written = _written()
    timeout = aiohttp.ClientTimeout(total=30)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as http:
            await asyncio.gather(*(_write(http, url, person, fresh=fresh) for person in PEOPLE))
    except (aiohttp.ClientError, TimeoutError) as error:
        raise DemoError(
            f"the demo's CalDAV server did not answer ({type(error).__name__})"
        ) from None
    if marker is not None:
        (marker / WRITTEN).write_text(json.dumps(written))


def written_this_week(folder: Path) -> bool:
    """Whether the calendars in ``folder`` were written for this week by these people's
    definitions: writing them again would write the same events (``events_of`` depends on
    nothing else), which was a tenth of a playground's start-up CPU."""
    try:
        found = json.loads((folder / WRITTEN).read_text())
    except (OSError, ValueError):
        return False
    return bool(found == _written())


def _written() -> dict[str, Any]:
    """What the calendars' events depend on: each person's week in their own zone, and the
    people's definitions themselves (a release may change them)."""
    return {
        "people": hashlib.sha256(repr((PEOPLE, SERIES_WEEKS)).encode()).hexdigest(),
        "weeks": {
            person.email: _monday(datetime.now(ZoneInfo(person.zone)).date()).isoformat()
            for person in PEOPLE
        },
    }


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


async def _write(http: aiohttp.ClientSession, url: str, person: DemoPerson, *, fresh: bool) -> None:
    auth = {"Authorization": aiohttp.encode_basic_auth(person.email, DEMO_PASSWORD)}
    home = calendar_url(url, person.email)
    if fresh:
        async with http.delete(home, headers=auth) as deleted:
            _expect(deleted, {200, 204, 404}, "delete a calendar")
    async with http.request("MKCALENDAR", home, headers=auth, data=MKCALENDAR) as made:
        _expect(made, {201, 405, 409}, "create a calendar")  # 405/409: it exists already
    today = datetime.now(ZoneInfo(person.zone)).date()
    for uid, text in events_of(person, today):
        async with http.put(
            f"{home}{uid}.ics",
            data=text.encode(),
            headers={**auth, "Content-Type": "text/calendar; charset=utf-8"},
        ) as stored:
            _expect(stored, {200, 201, 204}, "store an event")


MKCALENDAR = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
    "<D:set><D:prop><D:displayname>Home</D:displayname></D:prop></D:set></C:mkcalendar>"
)


def _expect(response: aiohttp.ClientResponse, statuses: set[int], doing: str) -> None:
    if response.status not in statuses:
        raise DemoError(f"the demo CalDAV server would not {doing} (HTTP {response.status})")


def events_of(person: DemoPerson, today: date) -> list[tuple[str, str]]:
    """``person``'s events as (uid, iCalendar text), placed relative to ``today``."""
    zone = ZoneInfo(person.zone)
    this_monday = today - timedelta(days=today.weekday())
    next_monday = this_monday + timedelta(days=7)
    series_monday = this_monday - timedelta(weeks=SERIES_WEEKS)
    texts = []
    for item in person.events:
        event = Event()
        uid = f"{item.uid}-{person.user_id}"
        event.add("uid", f"{uid}@{DOMAIN}")
        event.add("dtstamp", datetime.now(UTC))
        event.add("summary", item.summary)
        if isinstance(item, Weekly):
            first = min(WEEKDAYS.index(day) for day in item.days)
            start = datetime.combine(series_monday + timedelta(days=first), item.start, zone)
            event.add("dtstart", start)
            event.add("dtend", start + timedelta(minutes=item.minutes))
            event.add("rrule", {"freq": "weekly", "byday": list(item.days)})
        else:
            day = next_monday + timedelta(days=item.weekday)
            if item.start is None:
                event.add("dtstart", day)
                event.add("dtend", day + timedelta(days=1))
            else:
                start = datetime.combine(day, item.start, zone)
                event.add("dtstart", start)
                event.add("dtend", start + timedelta(minutes=item.minutes))
            if item.out_of_office:
                event.add("X-MICROSOFT-CDO-BUSYSTATUS", "OOF")
            if item.marked_free:
                event.add("transp", "TRANSPARENT")
        calendar = Calendar()
        calendar.add("prodid", "-//Pairtime//Playground demo//EN")
        calendar.add("version", "2.0")
        calendar.add_component(event)
        calendar.add_missing_timezones()
        texts.append((uid, calendar.to_ical().decode()))
    return texts


# ---------------------------------------------------------------- Radicale


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    """One thread per request, as Radicale's own server does."""

    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        """Requests name people's addresses: not for the log."""


class CalDavServer:
    """Radicale in this process, on a free localhost port, with the demo people as users."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> str:
        """Start serving (blocking briefly; call it in a thread); returns the base URL."""
        # Made here, so that Radicale has nothing to warn about on a first start.
        (self._folder / "collections" / "collection-root").mkdir(parents=True, exist_ok=True)
        users = self._folder / "users"
        users.write_text(
            "".join(f"{person.email}:{DEMO_PASSWORD}\n" for person in PEOPLE), encoding="utf-8"
        )
        # Radicale logs every request at INFO, with people's addresses in the paths.
        logging.getLogger("radicale").setLevel(logging.WARNING)
        configuration = radicale.config.load()
        configuration.update(
            {
                "auth": {
                    "type": "htpasswd",
                    "htpasswd_filename": str(users),
                    "htpasswd_encryption": "plain",
                    "delay": "0.2",
                },
                # Written again at every start: no need to sync each write to disk.
                "storage": {
                    "filesystem_folder": str(self._folder / "collections"),
                    "_filesystem_fsync": "False",
                },
                "rights": {"type": "owner_only"},
                "web": {"type": "none"},
                "logging": {"level": "warning"},
            },
            "pairtime demo",
            privileged=True,  # for "_filesystem_fsync", an option Radicale keeps for tests
        )
        application: Callable[..., Iterable[bytes]] = Application(configuration)
        server = make_server(
            "127.0.0.1", 0, application, server_class=_ThreadingServer, handler_class=_QuietHandler
        )
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, name="pairtime-demo-caldav", daemon=True
        )
        self._thread.start()
        return f"http://127.0.0.1:{server.server_port}/"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = self._thread = None


@asynccontextmanager
async def running_caldav(folder: Path) -> AsyncIterator[str]:
    """The demo's CalDAV server for the duration of the block; yields its URL."""
    server = CalDavServer(folder)
    url = await asyncio.to_thread(server.start)
    try:
        yield url
    finally:
        await asyncio.to_thread(server.stop)

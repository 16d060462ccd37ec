"""Load on Slack's endpoint: signed slash commands against `pairtime serve`, slow calendars.

    .venv/bin/python bench/slack_load.py [--requests 2000] [--rate 200] [--pairs 40]
                                         [--calendar caldav|google] [--delay 0.2]

Separate processes, as in production: ``pairtime serve`` (SQLite, one
workspace); this process, which plays Slack (the fake Web API in a thread of
its own, receiving the slot pickers at the commands' response_urls) and sends
the commands; and the calendars, which answer every read only after
``--delay`` seconds (200 ms by default):

- ``caldav`` (default): a real CalDAV server (Radicale, threaded) in a child
  process, delaying each calendar-query ``REPORT``; people connect with the
  iCloud form. Pairtime parses every event (iCalendar) it reads.
- ``google``: the Google Calendar fake (tests/fakes/google.py) in a thread,
  ``latency`` 200 ms on every call; people connect through its OAuth consent.
  freeBusy answers are small JSON, so this shows what the bot itself sustains.

Every person first connects their calendar the way people do: a direct
message asks for the link, the link is followed in a browser. Then
``--requests`` slash commands ("find 30 minutes with @partner", over the next
two weeks from now, so no cached busy times can be reused) are sent at
``--rate`` per second, each signed as Slack signs it. Printed as JSON:

- ``ack_ms``: from sending a command to its HTTP answer (Slack wants it within
  3 s; the target is a p99 under 100 ms);
- ``picker_ms``: from sending a command to its slot picker reaching the
  response_url (target: p95 under 500 ms, with the 200 ms calendar reads);
- ``server_cpu_ms_per_command``: the CPU time ``pairtime serve`` spent per
  command (user + system, from /proc), which bounds the rate one process
  sustains: about 1000 / that figure per second on one core.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the fakes live in tests/, which is not an installed package

from storage.crypto import generate_key  # noqa: E402
from tests.fakes import slack_requests as sr  # noqa: E402
from tests.fakes.google import FakeGoogle  # noqa: E402
from tests.fakes.server import ThreadedServer  # noqa: E402
from tests.fakes.slack import FakeSlack  # noqa: E402

SECRET = "bench-signing-secret-0123456789abcdef"  # noqa: S105 - the fake Slack app's
PASSWORD = "abcd-efgh-ijkl-mnop"  # noqa: S105 - every fake person's app-specific password
PUBLIC = "http://127.0.0.1:3978"  # the server's PAIRTIME_BASE_URL: links point there


# ---------------------------------------------------------------------- the slow calendar


def apple_id(user: str) -> str:
    return f"{user.lower()}@icloud.example"


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        pass


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 1024


def _slow_reports(app: Callable[..., Iterable[bytes]], delay: float) -> Callable[..., Any]:
    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ["REQUEST_METHOD"] == "REPORT":
            time.sleep(delay)  # the calendar "answers after 200 ms"
        return app(environ, start_response)

    return application


def _calendar(now: datetime) -> list[str]:
    """Two weeks of meetings, one iCalendar object each: a daily stand-up, long blocks."""
    start = now.replace(hour=9, minute=0, second=0, microsecond=0) + timedelta(days=1)
    events = [
        ("standup", start, start + timedelta(minutes=30), "RRULE:FREQ=DAILY;COUNT=14\r\n"),
    ]
    for day in range(0, 14, 2):
        begin = start + timedelta(days=day, hours=4)
        events.append((f"block{day}", begin, begin + timedelta(hours=2), ""))
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    return [
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\n"
        f"BEGIN:VEVENT\r\nUID:{uid}@bench\r\nDTSTAMP:{stamp}\r\nSUMMARY:Busy\r\n"
        f"DTSTART:{a:%Y%m%dT%H%M%SZ}\r\nDTEND:{b:%Y%m%dT%H%M%SZ}\r\n{rule}END:VEVENT\r\n"
        "END:VCALENDAR\r\n"
        for uid, a, b, rule in events
    ]


def serve_caldav(folder: str, users: list[str], delay: float, address: Any) -> None:
    """Radicale with ``users`` (each with a calendar), REPORTs delayed; runs in a child."""
    import caldav  # noqa: PLC0415 - only the child process needs these
    import radicale  # noqa: PLC0415
    import radicale.config  # noqa: PLC0415

    base = Path(folder)
    htpasswd = base / "users"
    htpasswd.write_text("".join(f"{user}:{PASSWORD}\n" for user in users))
    configuration = radicale.config.load()
    configuration.update(
        {
            "auth": {
                "type": "htpasswd",
                "htpasswd_filename": str(htpasswd),
                "htpasswd_encryption": "plain",
                "delay": "0",
            },
            "storage": {"filesystem_folder": str(base / "collections")},
            "rights": {"type": "owner_only"},
            "logging": {"level": "warning"},
        },
        "bench",
    )
    app = _slow_reports(radicale.Application(configuration), delay)
    server = make_server("127.0.0.1", 0, app, server_class=_ThreadingServer, handler_class=_Quiet)
    url = f"http://127.0.0.1:{server.server_port}/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        events = _calendar(datetime.now(UTC))
        for user in users:
            client = caldav.DAVClient(url, username=user, password=PASSWORD)
            calendar = client.principal().make_calendar(name="Work")
            for event in events:
                calendar.save_event(event)
    except Exception as error:  # noqa: BLE001 - reported to the parent, which stops
        address.put(f"error: {error!r}")
        return
    address.put(url)
    thread.join()


# ---------------------------------------------------------------------- the bot


def start_pairtime(
    folder: Path, slack_api: str, extra: dict[str, str]
) -> tuple[subprocess.Popen[str], str]:
    script = Path(sys.executable).with_name("pairtime")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]
    environment = {
        **os.environ,
        "PAIRTIME_ENV": "development",
        "PAIRTIME_DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'pairtime.db'}",
        "PAIRTIME_ENCRYPTION_KEYS": generate_key(),
        "PAIRTIME_BASE_URL": PUBLIC,
        "PAIRTIME_PLAYGROUND": "0",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_BOT_TOKEN": "xoxb-1-pairtime-test",
        "SLACK_API_URL": slack_api,
        **extra,
    }
    for name in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "MICROSOFT_APP_ID"):
        environment.pop(name, None)
    # Its log goes to a file: a pipe nobody reads would fill up and stall the server.
    log = (folder / "server.log").open("w")
    process = subprocess.Popen(  # noqa: S603 - our own console script
        [*command, "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        env=environment,
        cwd=folder,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if "listening on" not in line:
        process.kill()
        process.communicate()
        raise SystemExit(f"pairtime serve did not start: {(folder / 'server.log').read_text()}")
    return process, line.split("listening on ")[1].split()[0]


async def until(check: Callable[[], bool], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


async def connect_calendars(
    bot: str, slack: FakeSlack, session: aiohttp.ClientSession, users: list[str]
) -> None:
    """Each person asks for the link in a DM and fills in the iCloud form."""

    async def connect(user: str) -> None:
        dm = slack.dm_channel(user)
        event = sr.message_im_event("connect my icloud calendar", user=user)
        request = sr.event_callback(SECRET, event)
        async with session.post(f"{bot}/slack/events", data=request.body, headers=request.headers):
            pass
        await until(lambda: bool(slack.messages_in(dm)), 30, f"{user}'s connect link")
        blocks = slack.messages_in(dm)[0].blocks
        link = next(e["url"] for b in blocks for e in b.get("elements", []) if e.get("url"))
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
            async with browser.get(bot + link.removeprefix(PUBLIC)) as page:
                state = re.search(r'name="state" value="([^"]+)"', await page.text())
            assert state is not None
            form = {"state": state.group(1), "apple_id": apple_id(user), "password": PASSWORD}
            async with browser.post(f"{bot}/connect/icloud", data=form) as done:
                if done.status != 200:
                    page = re.sub(r"<[^>]+>", " ", await done.text())
                    raise SystemExit(
                        f"connecting {user}'s calendar failed: HTTP {done.status}: "
                        + " ".join(page.split())[-400:]
                    )
        await until(lambda: len(slack.messages_in(dm)) >= 2, 30, f"{user}'s confirmation")

    for start in range(0, len(users), 10):
        await asyncio.gather(*(connect(user) for user in users[start : start + 10]))


async def connect_google(
    bot: str, slack: FakeSlack, google: FakeGoogle, session: aiohttp.ClientSession, users: list[str]
) -> None:
    """Each person asks for the link in a DM, then consents at (fake) Google, one at a time:
    the fake grants whichever account ``next_account`` names."""
    for user in users:
        dm = slack.dm_channel(user)
        event = sr.message_im_event("connect my google calendar", user=user)
        request = sr.event_callback(SECRET, event)
        async with session.post(f"{bot}/slack/events", data=request.body, headers=request.headers):
            pass
        await until(lambda dm=dm: bool(slack.messages_in(dm)), 30, f"{user}'s connect link")
        blocks = slack.messages_in(dm)[0].blocks
        link = next(e["url"] for b in blocks for e in b.get("elements", []) if e.get("url"))
        google.next_account = apple_id(user)
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
            async with browser.get(bot + link.removeprefix(PUBLIC)) as page:
                shown = await page.text()
            action = re.search(r'action="([^"]+)"', shown)
            state = re.search(r'name="state" value="([^"]+)"', shown)
            assert action is not None
            assert state is not None
            start = f"{bot}{action.group(1)}?state={state.group(1)}"
            async with browser.get(start, allow_redirects=False) as to_google:
                authorize = to_google.headers["Location"]
            async with browser.get(authorize, allow_redirects=False) as from_google:
                back = from_google.headers["Location"]
            async with browser.get(back.replace(PUBLIC, bot)) as done:
                if done.status != 200:
                    raise SystemExit(f"connecting {user}'s calendar failed: HTTP {done.status}")
        await until(lambda dm=dm: len(slack.messages_in(dm)) >= 2, 30, f"{user}'s confirmation")


def busy_blocks(now: datetime) -> list[tuple[datetime, datetime]]:
    start = now.replace(hour=9, minute=0, second=0, microsecond=0) + timedelta(days=1)
    blocks = [(start + timedelta(days=d), start + timedelta(days=d, minutes=30)) for d in range(14)]
    blocks += [
        (start + timedelta(days=d, hours=4), start + timedelta(days=d, hours=6))
        for d in range(0, 14, 2)
    ]
    return blocks


# ---------------------------------------------------------------------- the load


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def summary(seconds: list[float]) -> dict[str, float]:
    if not seconds:
        return {}
    ms = [s * 1000 for s in seconds]
    return {
        "p50": round(percentile(ms, 0.50), 1),
        "p95": round(percentile(ms, 0.95), 1),
        "p99": round(percentile(ms, 0.99), 1),
        "max": round(max(ms), 1),
        "mean": round(statistics.fmean(ms), 1),
    }


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def load(
    bot: str,
    pid: int,
    slack: FakeSlack,
    slack_base: str,
    pairs: list[tuple[str, str]],
    *,
    count: int,
    rate: float,
    text: str,
) -> dict[str, Any]:
    requests = []
    for index in range(count):
        mentor, mentee = pairs[index % len(pairs)]
        requests.append(
            sr.slash_command(
                SECRET,
                text=text.format(partner=f"<@{mentee}>"),
                user_id=mentor,
                response_url=f"{slack_base}/response/bench-{index}",
            )
        )
    sent: dict[int, float] = {}
    acks: list[float] = []
    failures: list[int] = []
    connector = aiohttp.TCPConnector(limit=0)
    cpu_before = cpu_seconds(pid)
    async with aiohttp.ClientSession(connector=connector) as session:
        began = time.monotonic()

        async def fire(index: int) -> None:
            await asyncio.sleep(max(0.0, began + index / rate - time.monotonic()))
            request = requests[index]
            start = time.monotonic()
            sent[index] = start
            async with session.post(
                f"{bot}/slack/events", data=request.body, headers=request.headers
            ) as answer:
                await answer.read()
                acks.append(time.monotonic() - start)
                if answer.status != 200:
                    failures.append(answer.status)

        await asyncio.gather(*(fire(index) for index in range(count)))
        sending = time.monotonic() - began
        await until(lambda: len(slack.responses) >= count, 900, "every slot picker")
        finished = time.monotonic() - began
    cpu = cpu_seconds(pid) - cpu_before
    arrivals = [call.at for call in slack.calls_to("response")]
    pickers: list[float] = []
    others = 0
    for post, arrived in zip(slack.responses, arrivals, strict=True):
        index = int(post.response_id.removeprefix("bench-"))
        if (post.text or "").startswith("Times for you and") or not text.startswith("find"):
            pickers.append(arrived - sent[index])
        else:
            others += 1
    return {
        "sent": count,
        "seconds_to_send": round(sending, 2),
        "achieved_rate_per_second": round(count / sending, 1),
        "seconds_until_last_picker": round(finished, 2),
        "server_cpu_ms_per_command": round(cpu * 1000 / count, 1),
        "http_failures": len(failures),
        "ack_ms": summary(acks),
        "picker_ms": summary(pickers),
        "pickers_posted": len(pickers),
        "answers_that_were_not_pickers": others,
    }


async def run(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    slack = FakeSlack()
    mentors = [f"U0MENTOR{i:03d}" for i in range(args.pairs)]
    mentees = [f"U0MENTEE{i:03d}" for i in range(args.pairs)]
    everyone = mentors + mentees
    for index, user in enumerate(everyone):
        zone = ("Europe/London", "Europe/Madrid", "America/New_York")[index % 3]
        slack.add_user(user, real_name=f"Person {user[-6:]}", tz=zone)
    with contextlib.ExitStack() as stack:
        if args.calendar == "caldav":
            extra = {"PAIRTIME_CALDAV_URL": start_caldav(stack, folder, everyone, args.delay)}
            google = None
        else:
            google = FakeGoogle(
                client_id="bench.apps.googleusercontent.com",
                client_secret="bench-google-secret",  # noqa: S106 - the fake's own
                redirect_uris=(f"{PUBLIC}/oauth/google/callback",),
                latency=args.delay,
            )
            for user in everyone:
                google.set_busy(apple_id(user), busy_blocks(datetime.now(UTC)))
            base = stack.enter_context(ThreadedServer(google.app))
            extra = {
                "GOOGLE_CLIENT_ID": google.client_id,
                "GOOGLE_CLIENT_SECRET": google.client_secret,
                "GOOGLE_AUTH_URL": f"{base}/o/oauth2/v2/auth",
                "GOOGLE_TOKEN_URL": f"{base}/token",
                "GOOGLE_REVOKE_URL": f"{base}/revoke",
                "GOOGLE_CALENDAR_API_URL": f"{base}/calendar/v3",
                "OAUTHLIB_INSECURE_TRANSPORT": "1",  # the fake speaks plain http
            }
        slack_base = stack.enter_context(ThreadedServer(slack.app))
        bot_process, bot = start_pairtime(folder, f"{slack_base}/api/", extra)
        stack.callback(stop, bot_process, folder)
        async with aiohttp.ClientSession() as session:
            if google is None:
                await connect_calendars(bot, slack, session, everyone)
            else:
                await connect_google(bot, slack, google, session, everyone)
        slack.responses.clear()
        slack.calls.clear()
        return await load(
            bot, bot_process.pid, slack, slack_base, list(zip(mentors, mentees, strict=True)),
            count=args.requests, rate=args.rate, text=args.text,
        )  # fmt: skip


def start_caldav(stack: contextlib.ExitStack, folder: Path, users: list[str], delay: float) -> str:
    context = multiprocessing.get_context("spawn")
    address = context.Queue()
    (folder / "caldav").mkdir()
    calendars = context.Process(
        target=serve_caldav,
        args=(str(folder / "caldav"), [apple_id(u) for u in users], delay, address),
        daemon=True,
    )
    calendars.start()
    stack.callback(calendars.terminate)
    url = str(address.get(timeout=300))
    if url.startswith("error:"):
        raise SystemExit(f"the CalDAV server did not start: {url}")
    return url


def stop(process: subprocess.Popen[str], folder: Path) -> None:
    process.terminate()
    process.communicate(timeout=30)
    errors = (folder / "server.log").read_text()
    if os.environ.get("BENCH_SERVER_LOG"):
        Path(os.environ["BENCH_SERVER_LOG"]).write_text(errors)
    problems = [line for line in errors.splitlines() if "ERROR" in line]
    if problems:
        print(f"{len(problems)} error(s) logged by pairtime serve, the first:", file=sys.stderr)
        print("\n".join(problems[:5]), file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="slash commands to send")
    parser.add_argument("--rate", type=float, default=200, help="commands per second")
    parser.add_argument("--pairs", type=int, default=40, help="mentor and mentee pairs")
    parser.add_argument("--delay", type=float, default=0.2, help="seconds per calendar read")
    parser.add_argument(
        "--calendar", choices=("caldav", "google"), default="caldav", help="the slow calendars"
    )
    parser.add_argument(
        "--text",
        default="find 30 minutes with {partner}",
        help="what each command says; {partner} is the mentee's mention ('help' measures the "
        "Slack path alone)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pairtime-bench-") as folder:
        result = asyncio.run(run(args, Path(folder)))
    ack, picker = result["ack_ms"], result["picker_ms"]
    print(
        json.dumps(
            {
                "requests": args.requests,
                "rate_per_second": args.rate,
                "calendars": args.calendar,
                "calendar_delay_ms": round(args.delay * 1000),
                "people": args.pairs * 2,
                **result,
                "targets": {"ack_p99_ms": 100, "picker_p95_ms": 500},
                "met": {
                    "ack_p99": bool(ack) and ack["p99"] < 100,
                    "picker_p95": bool(picker) and picker["p95"] < 500,
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()

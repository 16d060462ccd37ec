"""`pairtime serve`: starts on its defaults, answers /healthz, refuses bad configuration."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import socket
import urllib.request
from pathlib import Path

import pytest
from aiohttp import ClientSession

from bot.bootstrap import prepare_database
from bot.cli import _listen
from bot.server import build_app, serve
from bot.settings import load_settings
from storage.crypto import generate_key
from storage.store import Storage
from tests.support import run_cli, run_pairtime, running_app, start_serve

CLEAN_ENV = dict.fromkeys(
    (
        "PAIRTIME_ENV",
        "PAIRTIME_DATABASE_URL",
        "PAIRTIME_BASE_URL",
        "PAIRTIME_ENCRYPTION_KEYS",
        "SLACK_SIGNING_SECRET",
        "SLACK_BOT_TOKEN",
        "MICROSOFT_APP_ID",
        "MICROSOFT_APP_PASSWORD",
    ),
    "",
)


async def test_healthz_over_http_in_process(tmp_path: Path):
    async with (
        running_app(load_settings({}, dotenv_path=None), tmp_path) as running,
        ClientSession() as session,
        session.get(f"{running.base_url}/healthz") as reply,
    ):
        assert reply.status == 200
        assert await reply.json() == {"status": "ok"}


def test_serve_starts_with_no_configuration_and_answers_healthz(tmp_path: Path):
    server = start_serve(env=CLEAN_ENV, cwd=tmp_path)
    try:
        assert server.address.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(f"{server.address}/healthz", timeout=10) as reply:
            assert json.load(reply) == {"status": "ok"}
    finally:
        log = server.stop()
    assert server.process.returncode == 0
    # With no keys configured, development makes one; a new database is made current.
    assert (tmp_path / ".pairtime" / "dev-encryption-key").exists()
    assert "generated a development key" in log
    status = run_cli(["db", "status"], env=CLEAN_ENV, cwd=tmp_path)
    assert status.returncode == 0, status.stdout + status.stderr
    assert (tmp_path / "pairtime.db").exists()


def test_serve_writes_one_json_object_per_log_line_when_asked(tmp_path: Path):
    server = start_serve(env={**CLEAN_ENV, "PAIRTIME_LOG_FORMAT": "json"}, cwd=tmp_path)
    try:
        with urllib.request.urlopen(f"{server.address}/healthz", timeout=10) as reply:
            assert reply.status == 200
    finally:
        log = server.stop()
    lines = [json.loads(line) for line in log.splitlines() if line.strip()]
    assert len(lines) >= 2
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    assert any("generated a development key" in line["message"] for line in lines)


def test_serve_refuses_bad_configuration_naming_the_variable(tmp_path: Path):
    secret = "xoxp-this-must-not-be-printed"
    result = run_pairtime(
        ["serve", "--port", "0"],
        env={**CLEAN_ENV, "SLACK_BOT_TOKEN": secret, "SLACK_SIGNING_SECRET": "x"},
        cwd=tmp_path,
    )
    assert result.returncode == 78
    assert result.stderr.strip() == (
        "pairtime: configuration error: SLACK_BOT_TOKEN must be a bot token (it starts with xoxb-)"
    )
    assert secret not in result.stdout + result.stderr


def test_serve_reads_a_dotenv_file_in_the_working_directory(tmp_path: Path):
    (tmp_path / ".env").write_text("PAIRTIME_ENV=production\n")
    result = run_pairtime(["serve", "--port", "0"], env=CLEAN_ENV, cwd=tmp_path)
    assert result.returncode == 78
    assert "PAIRTIME_ENCRYPTION_KEYS must be set in production" in result.stderr


COMMANDS = [
    [],
    ["serve"],
    ["slots"],
    ["parse"],
    ["db"],
    ["db", "upgrade"],
    ["db", "status"],
    ["keys"],
    ["keys", "generate"],
    ["keys", "rotate"],
    ["pairs"],
    ["pairs", "import"],
    ["pairs", "list"],
    ["pairs", "remove"],
    ["pairs", "move"],
    ["circles", "move"],
    ["tracks"],
    ["tracks", "list"],
    ["tracks", "create"],
    ["tracks", "rename"],
    ["tracks", "archive"],
    ["tracks", "restore"],
    ["admins"],
    ["admins", "grant"],
    ["admins", "revoke"],
    ["admins", "list"],
    ["program"],
    ["program", "show"],
    ["program", "set"],
    ["demo"],
    ["demo", "reset"],
    ["manifests"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "pairtime")
def test_every_command_has_help(command: list[str]):
    result = run_cli([*command, "--help"])
    assert result.returncode == 0
    assert result.stdout.startswith(f"usage: pairtime {' '.join(command)}".rstrip())


def test_top_level_help_lists_the_commands():
    listed = run_pairtime(["--help"]).stdout  # the installed command, as a newcomer runs it
    for command in {c[0] for c in COMMANDS if c}:
        assert re.search(rf"^    {command}\b", listed, re.MULTILINE), command


async def test_without_smtp_it_says_once_at_start_up_that_invitations_are_not_emailed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO)
    (tmp_path / "plain").mkdir()
    (tmp_path / "mail").mkdir()
    async with running_app(load_settings({}, dotenv_path=None), tmp_path / "plain"):
        pass
    said = [r.getMessage() for r in caplog.records if "Invitations are" in r.getMessage()]
    (notice,) = said
    assert notice.startswith("Invitations are not emailed: PAIRTIME_SMTP_URL is not set.")
    assert "the .ics file" in notice

    caplog.clear()
    configured = load_settings(
        {
            "PAIRTIME_SMTP_URL": "smtp://mentoring%40example.org:s3cret-pw@127.0.0.1:2587",
            "PAIRTIME_MAIL_FROM": "Mentoring Program <mentoring@example.org>",
        },
        dotenv_path=None,
    )
    async with running_app(configured, tmp_path / "mail"):
        pass
    said = [r.getMessage() for r in caplog.records if "Invitations are" in r.getMessage()]
    assert said == ["Invitations are emailed through 127.0.0.1:2587 (starttls)"]
    assert "s3cret-pw" not in caplog.text


def test_serve_on_a_port_in_use_says_so_in_one_line(tmp_path: Path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_pairtime(["serve", "--port", str(port)], env=CLEAN_ENV, cwd=tmp_path)
    assert result.returncode == 78
    assert result.stderr.strip() == (
        f"pairtime serve: cannot listen on 127.0.0.1:{port}: Address already in use"
    )


async def test_a_request_sent_before_the_app_is_ready_is_answered_once_it_is(tmp_path: Path):
    """The socket listens before anything heavy is imported: a health check that connects
    while the process starts waits in the backlog for its answer instead of being refused."""
    sockets = _listen("127.0.0.1", 0)
    port = sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: pairtime\r\nConnection: close\r\n\r\n")
    await writer.drain()
    settings = load_settings({}, dotenv_path=None)
    storage = Storage.open(f"sqlite+aiosqlite:///{tmp_path / 'pairtime.db'}", [generate_key()])
    stop = asyncio.Event()
    announced: list[str] = []
    try:
        await prepare_database(storage.database, migrate_if_behind=False)
        app = build_app(settings, storage, folder=tmp_path / ".pairtime")
        serving = asyncio.create_task(serve(app, sockets, announce=announced.append, stop=stop))
        reading = asyncio.ensure_future(reader.read())
        # A server that fails to start ends ``serving`` first: its error, not a hang.
        await asyncio.wait({reading, serving}, return_when=asyncio.FIRST_COMPLETED)
        assert reading.done(), serving.exception()
        answer = reading.result()
        stop.set()
        await serving
    finally:
        writer.close()
        await storage.close()
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
    assert answer.endswith(b'{"status": "ok"}')
    assert announced == [f"http://127.0.0.1:{port}"]

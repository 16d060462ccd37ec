"""`pairtime serve` imports the chat, calendar and migration libraries only when it needs them.

Most of a start-up's CPU was importing libraries the server did not use: which modules a
real ``pairtime serve`` loaded is read from Python's own import log (``PYTHONPROFILEIMPORTTIME``,
the environment form of ``-X importtime``). How fast it starts is bench/startup.py's business.
"""

from __future__ import annotations

import os
import subprocess
import urllib.request
from pathlib import Path

from storage.crypto import generate_key
from tests.support import pairtime_command, run_pairtime

CLEAN = dict.fromkeys(
    (
        "PAIRTIME_ENV",
        "PAIRTIME_DATABASE_URL",
        "PAIRTIME_BASE_URL",
        "SLACK_SIGNING_SECRET",
        "SLACK_BOT_TOKEN",
        "SLACK_CLIENT_ID",
        "SLACK_CLIENT_SECRET",
        "MICROSOFT_APP_ID",
        "MICROSOFT_APP_PASSWORD",
        "GOOGLE_CLIENT_ID",
        "GOOGLE_CLIENT_SECRET",
        "MICROSOFT_CALENDAR_CLIENT_ID",
        "MICROSOFT_CALENDAR_CLIENT_SECRET",
    ),
    "",
)
HEAVY = {
    "alembic": "migrations, when the schema is current",
    "caldav": "iCloud, before anyone connects or reads",
    "niquests": "caldav's HTTP client",
    "recurring_ical_events": "expanding CalDAV events, before a CalDAV read",
    "slack_bolt": "Slack, when it is not configured",
    "botbuilder": "Teams, when it is not configured",
    "msal": "Microsoft calendars, when not configured",
    "google_auth_oauthlib": "Google calendars, when not configured",
    "radicale": "the playground's CalDAV server, when the playground is off",
    "sqlalchemy.dialects.postgresql": "PostgreSQL's dialect, on SQLite",
    "icalendar": "invitations, before the first one is written",
}


def imported_by_serve(folder: Path, env: dict[str, str]) -> set[str]:
    """Every module a real ``pairtime serve`` had imported once it answered /healthz."""
    environment = {**os.environ, **CLEAN, "PAIRTIME_ENCRYPTION_KEYS": generate_key(), **env}
    made = run_pairtime(["db", "upgrade"], env=environment, cwd=folder)
    assert made.returncode == 0, made.stderr
    log = folder / "imports.log"
    with log.open("w") as errors:
        # The import log is long: to a file, as a pipe nobody reads would fill and stall it.
        process = subprocess.Popen(
            [*pairtime_command(), "serve", "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            env={**environment, "PYTHONPROFILEIMPORTTIME": "1"},
            cwd=folder,
        )
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            assert "listening on" in line, log.read_text()[-2000:]
            address = line.split("listening on ")[1].split()[0]
            with urllib.request.urlopen(f"{address}/healthz", timeout=30) as reply:
                assert reply.status == 200
        finally:
            process.terminate()
            process.communicate(timeout=30)
    return {
        line.rsplit("|", 1)[1].strip()
        for line in log.read_text().splitlines()
        if line.startswith("import time:") and "|" in line
    }


def loaded(modules: set[str], name: str) -> bool:
    return any(module == name or module.startswith(f"{name}.") for module in modules)


def test_a_server_without_chat_apps_imports_no_chat_calendar_or_migration_library(
    tmp_path: Path,
):
    modules = imported_by_serve(tmp_path, {"PAIRTIME_PLAYGROUND": "0"})

    assert loaded(modules, "sqlalchemy")  # the log is read right: what it needs is there
    assert loaded(modules, "aiohttp")
    assert {name: why for name, why in HEAVY.items() if loaded(modules, name)} == {}


def test_a_server_imports_the_chat_library_of_the_platform_configured_only(tmp_path: Path):
    modules = imported_by_serve(
        tmp_path,
        {
            "PAIRTIME_PLAYGROUND": "0",
            "SLACK_SIGNING_SECRET": "startup-test-signing-secret",
            "SLACK_BOT_TOKEN": "xoxb-1-startup-test",
        },
    )

    assert loaded(modules, "slack_bolt")
    assert not loaded(modules, "botbuilder")
    assert not loaded(modules, "alembic")


def test_configured_calendar_services_import_their_libraries_at_their_first_use(
    tmp_path: Path,
):
    modules = imported_by_serve(
        tmp_path,
        {
            "PAIRTIME_PLAYGROUND": "0",
            "GOOGLE_CLIENT_ID": "startup-test.apps.googleusercontent.com",
            "GOOGLE_CLIENT_SECRET": "startup-test-google-secret",
            "MICROSOFT_CALENDAR_CLIENT_ID": "00000000-0000-4000-8000-0000000ca1e0",
            "MICROSOFT_CALENDAR_CLIENT_SECRET": "startup-test-graph-secret",
        },
    )

    assert loaded(modules, "adapters.calendars.google")  # both services are configured
    assert loaded(modules, "adapters.calendars.microsoft")
    lazy = ("google", "google_auth_oauthlib", "oauthlib", "msal", "requests", "icalendar")
    assert [name for name in lazy if loaded(modules, name)] == []

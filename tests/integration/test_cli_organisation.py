"""``pairtime org`` as IT runs it: connect each kind against the fakes, status, disconnect.

The fakes run in their own threads (the command runs its own event loop); the secrets
given are checked never to be printed, and stored only encrypted.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.calendars.google import EVENTS
from storage.crypto import generate_key
from tests.fakes.ews import FakeExchange
from tests.fakes.google import FakeGoogle
from tests.fakes.microsoft import FakeMicrosoft
from tests.fakes.server import TestCertificate, ThreadedServer
from tests.support import run_cli

PROGRAM = "slack:T0ORG"


@pytest.fixture
def tls(tmp_path: Path) -> TestCertificate:
    return TestCertificate.create(tmp_path)


@pytest.fixture
def google() -> Iterator[tuple[FakeGoogle, str]]:
    fake = FakeGoogle()
    with ThreadedServer(fake.app) as base:
        yield fake, base


@pytest.fixture
def microsoft(tls: TestCertificate) -> Iterator[tuple[FakeMicrosoft, str]]:
    fake = FakeMicrosoft(application_permissions=frozenset({"Calendars.ReadBasic"}))
    fake.add_account("mentoring@contoso.com")
    with ThreadedServer(fake.app, tls=tls) as base:
        yield fake, base


@pytest.fixture
def exchange(tls: TestCertificate) -> Iterator[tuple[FakeExchange, str]]:
    fake = FakeExchange()
    fake.set_events("mentoring@contoso.com", [])
    with ThreadedServer(fake.app, tls=tls) as base:
        yield fake, f"{base}/EWS/Exchange.asmx"


@pytest.fixture
def env(tmp_path: Path, tls: TestCertificate) -> dict[str, str]:
    values = {
        "PAIRTIME_ENV": "development",
        "PAIRTIME_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'pairtime.db'}",
        "PAIRTIME_ENCRYPTION_KEYS": generate_key(),
        "PAIRTIME_BASE_URL": "https://pairtime.example.org",
        "PAIRTIME_CA_BUNDLE": str(tls.ca_path),
        "SLACK_BOT_TOKEN": "",
        "SLACK_SIGNING_SECRET": "",
        "MICROSOFT_APP_ID": "",
        "MICROSOFT_APP_PASSWORD": "",
    }
    assert run_cli(["db", "upgrade"], env=values, cwd=tmp_path).returncode == 0
    return values


def org(args: list[str], env: dict[str, str], cwd: Path, stdin: str | None = None):
    return run_cli(["org", *args, "--program", PROGRAM], env=env, cwd=cwd, stdin=stdin)


def stored_secrets(tmp_path: Path) -> list[str]:
    with sqlite3.connect(tmp_path / "pairtime.db") as db:
        return [row[0] for row in db.execute("SELECT secret FROM organization_grants")]


def test_google_connects_with_a_key_file_and_shows_in_status(env, google, tmp_path: Path):
    fake, base = google
    env |= {"GOOGLE_TOKEN_URL": f"{base}/token", "GOOGLE_CALENDAR_API_URL": f"{base}/calendar/v3"}
    info = fake.service_account_info(base, delegated_scopes=[EVENTS])
    fake.set_events("mentoring@example.org", [])
    key_file = tmp_path / "key.json"
    key_file.write_text(json.dumps(info))
    args = [
        "connect", "google", "--service-account-file", str(key_file),
        "--program-account", "Mentoring@Example.org", "--domain", "example.org",
        "--name", "Example Org",
    ]  # fmt: skip
    connected = org(args, env, tmp_path)
    assert connected.returncode == 0, connected.stderr
    assert "Connected Example Org (Google Workspace) for slack:T0ORG" in connected.stdout
    assert "email invitations" in connected.stdout
    # The key file's content is kept, encrypted: deleting the file changes nothing.
    key_file.unlink()
    [secret] = stored_secrets(tmp_path)
    assert info["private_key_id"] not in secret
    assert "PRIVATE KEY" not in secret

    status = org(["status"], env, tmp_path)
    assert status.returncode == 0
    lines = status.stdout.splitlines()
    assert lines[0].startswith("Google Workspace: connected since ")
    assert "program account mentoring@example.org" in lines[0]
    assert lines[1].startswith("Microsoft 365: not connected")
    assert lines[2].startswith("Exchange: not connected")
    assert info["private_key"] not in connected.stdout + connected.stderr + status.stdout

    gone = org(["disconnect", "google"], env, tmp_path)
    assert gone.returncode == 0
    assert "deleted its stored secret" in gone.stdout
    assert stored_secrets(tmp_path) == []


def test_google_without_delegation_says_what_to_authorise(env, google, tmp_path: Path):
    fake, base = google
    env |= {"GOOGLE_TOKEN_URL": f"{base}/token", "GOOGLE_CALENDAR_API_URL": f"{base}/calendar/v3"}
    info = fake.service_account_info(base)  # delegated for calendar.freebusy only
    fake.add_account("mentoring@example.org")
    key_file = tmp_path / "key.json"
    key_file.write_text(json.dumps(info))
    refused = org(
        ["connect", "google", "--service-account-file", str(key_file),
         "--program-account", "mentoring@example.org", "--domain", "example.org"],
        env, tmp_path,
    )  # fmt: skip
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1
    assert f"authorise client id {info['client_id']} for {EVENTS}" in refused.stderr
    assert stored_secrets(tmp_path) == []


def test_microsoft_prints_the_admin_consent_url_and_reads_the_secret_from_stdin(
    env, microsoft, tmp_path: Path
):
    fake, base = microsoft
    env |= {"MICROSOFT_AUTHORITY_URL": base, "MICROSOFT_GRAPH_URL": f"{base}/v1.0"}
    connected = org(
        ["connect", "microsoft", "--tenant", fake.tenant_id, "--client-id", fake.client_id,
         "--client-secret", "-", "--program-account", "mentoring@contoso.com",
         "--domain", "contoso.com"],
        env, tmp_path, stdin=fake.client_secret + "\n",
    )  # fmt: skip
    assert connected.returncode == 0, connected.stderr
    assert (
        f"{base}/{fake.tenant_id}/adminconsent?client_id={fake.client_id}"
        "&redirect_uri=https%3A%2F%2Fpairtime.example.org%2F"
    ) in connected.stdout
    assert fake.client_secret not in connected.stdout + connected.stderr
    assert fake.client_secret not in "".join(stored_secrets(tmp_path))


def test_microsoft_with_a_wrong_secret_fails_in_one_line(env, microsoft, tmp_path: Path):
    fake, base = microsoft
    env |= {"MICROSOFT_AUTHORITY_URL": base, "MICROSOFT_GRAPH_URL": f"{base}/v1.0"}
    refused = org(
        ["connect", "microsoft", "--tenant", fake.tenant_id, "--client-id", fake.client_id,
         "--client-secret", "not-the-secret", "--program-account", "mentoring@contoso.com",
         "--domain", "contoso.com"],
        env, tmp_path,
    )  # fmt: skip
    assert refused.returncode == 2
    assert refused.stderr.startswith("pairtime org connect microsoft: Microsoft refused the app")
    assert "invalid_client" in refused.stderr
    assert "not-the-secret" not in refused.stderr + refused.stdout


def test_exchange_connects_over_tls_with_the_ca_bundle(env, exchange, tmp_path: Path):
    fake, url = exchange
    connected = org(
        ["connect", "exchange", "--ews-url", url, "--username", fake.username,
         "--password", "-", "--auth", "basic", "--program-account", "mentoring@contoso.com",
         "--domain", "contoso.com"],
        env, tmp_path, stdin=fake.password + "\n",
    )  # fmt: skip
    assert connected.returncode == 0, connected.stderr
    assert "Connected contoso.com (Exchange)" in connected.stdout
    assert fake.calls[0].mailboxes == ("mentoring@contoso.com",)
    assert fake.password not in "".join(stored_secrets(tmp_path))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--ews-url", "http://mail.contoso.com/EWS/Exchange.asmx"], "must be an https://"),
        (["--ews-url", "https://mail.contoso.com/EWS/Exchange.asmx", "--domain", "not a domain"],
         "is not a domain name"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_exit_2(env, tmp_path: Path, args: list[str], message: str):
    refused = org(
        ["connect", "exchange", "--username", "u", "--password", "p",
         "--program-account", "mentoring@contoso.com", "--domain", "contoso.com", *args],
        env, tmp_path,
    )  # fmt: skip
    assert refused.returncode == 2
    assert message in refused.stderr
    assert refused.stderr.count("\n") == 1

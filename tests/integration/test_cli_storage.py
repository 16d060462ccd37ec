"""The storage commands as an admin runs them: db, keys, pairs, circles, admins, and serve's
schema check."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from storage.crypto import Vault, generate_key
from tests.support import run_cli, run_pairtime, start_serve


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "PAIRTIME_ENV": "development",
        "PAIRTIME_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'pairtime.db'}",
        "PAIRTIME_ENCRYPTION_KEYS": generate_key(),
        "PAIRTIME_BASE_URL": "",
        "SLACK_BOT_TOKEN": "",
        "SLACK_SIGNING_SECRET": "",
        "MICROSOFT_APP_ID": "",
        "MICROSOFT_APP_PASSWORD": "",
    }


def pairtime(args: list[str], env: dict[str, str], cwd: Path):
    return run_cli(args, env=env, cwd=cwd)


def test_db_upgrade_then_status(env, tmp_path: Path):
    status = pairtime(["db", "status"], env, tmp_path)
    assert status.returncode == 1
    assert "Schema revision none (behind: run `pairtime db upgrade`)" in status.stdout
    upgraded = pairtime(["db", "upgrade"], env, tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    assert upgraded.stdout.startswith("Upgraded the database schema from empty to ")
    again = pairtime(["db", "upgrade"], env, tmp_path)
    assert again.stdout.startswith("The database is already at the current schema")
    assert pairtime(["db", "status"], env, tmp_path).returncode == 0


def test_keys_generate_prints_a_usable_key(tmp_path: Path):
    result = run_cli(["keys", "generate"], cwd=tmp_path)
    assert result.returncode == 0
    key = result.stdout.strip()
    assert Vault([key]).open(Vault([key]).seal("ok")) == "ok"
    assert run_cli(["keys", "generate"]).stdout.strip() != key


def test_pairs_import_reports_each_line_and_keeps_the_good_ones(env, tmp_path: Path):
    pairtime(["db", "upgrade"], env, tmp_path)
    roster = tmp_path / "pairs.csv"
    roster.write_text(
        "mentor,mentee\n"
        "ana@example.org,ben@example.org\n"
        "ana@example.org,U024BE7LH\n"
        "not an email,ben@example.org\n"
        "ana@example.org\n"
        "ana@example.org,ana@example.org\n"
        "ana@example.org,ben@example.org\n",
        encoding="utf-8",
    )
    result = pairtime(["pairs", "import", str(roster), "--program", "slack:T1"], env, tmp_path)
    assert result.returncode == 1  # some lines were rejected
    assert result.stdout.splitlines() == [
        "line 2: paired ana@example.org → ben@example.org (new: ana@example.org, ben@example.org)",
        "line 3: paired ana@example.org → U024BE7LH (new: U024BE7LH)",
        "line 7: already paired ana@example.org → ben@example.org",
        "3 line(s) imported, 3 rejected.",
    ]
    assert result.stderr.splitlines() == [
        "line 4: rejected: 'not an email' is neither an email address nor a chat user id",
        "line 5: rejected: expected two columns, mentor and mentee; got ['ana@example.org']",
        "line 6: rejected: a person cannot mentor themselves",
    ]
    listed = pairtime(["pairs", "list"], env, tmp_path)  # the only program is chosen
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines() == [
        "ana <ana@example.org> → ben <ben@example.org>",
        "ana <ana@example.org> → U024BE7LH",
    ]  # by name, ignoring case


def test_circles_import_list_link_and_remove(env, tmp_path: Path):
    pairtime(["db", "upgrade"], env, tmp_path)
    roster = tmp_path / "circles.csv"
    roster.write_text(
        "circle,member,channel\n"
        "Circle A,ana@example.org,C0AAAA\n"
        "Circle A,ben@example.org\n"
        "Circle B,ben@example.org,https://acme.slack.com/archives/C0BBBB\n"
        "Circle B,cy@example.org,C0AAAA\n"
        "Circle B,not an email\n"
        "Circle A\n"
        "Circle A,ben@example.org\n",
        encoding="utf-8",
    )
    result = pairtime(["circles", "import", str(roster), "--program", "slack:T1"], env, tmp_path)
    assert result.returncode == 1, result.stderr
    assert result.stdout.splitlines() == [
        (
            "line 2: added ana@example.org → Circle A (new circle, meets in C0AAAA, "
            "new: ana@example.org)"
        ),
        "line 3: added ben@example.org → Circle A (new: ben@example.org)",
        "line 4: added ben@example.org → Circle B (new circle, meets in C0BBBB)",
        "line 8: already in ben@example.org → Circle A",
        "4 line(s) imported, 3 rejected.",
    ]
    assert result.stderr.splitlines() == [
        "line 5: rejected: C0AAAA is already the channel of the circle 'Circle A'",
        "line 6: rejected: 'not an email' is neither an email address nor a chat user id",
        "line 7: rejected: expected circle, member and optionally channel; got ['Circle A']",
    ]
    again = pairtime(["circles", "import", str(roster)], env, tmp_path)
    assert "added" not in again.stdout  # running the file again changes nothing
    listed = pairtime(["circles", "list"], env, tmp_path)
    assert listed.stdout.splitlines() == [
        "Circle A (2 member(s), meets in C0AAAA)",
        "  ana <ana@example.org>",
        "  ben <ben@example.org>",
        "Circle B (1 member(s), meets in C0BBBB)",
        "  ben <ben@example.org>",
    ]

    teams_link = "https://teams.microsoft.com/l/channel/19%3aabc%40thread.tacv2/General?groupId=g"
    moved = pairtime(["circles", "link", "Circle B", teams_link], env, tmp_path)
    assert moved.stdout.strip() == (
        "The circle 'Circle B' meets in 19:abc@thread.tacv2: a poll asked for there invites it."
    )
    taken = pairtime(["circles", "link", "Circle B", "C0AAAA"], env, tmp_path)
    assert taken.returncode == 2
    assert taken.stderr.strip() == (
        "pairtime circles link: C0AAAA is already the channel of the circle 'Circle A'"
    )
    unlinked = pairtime(["circles", "link", "Circle A"], env, tmp_path)
    assert unlinked.stdout.strip() == "The circle 'Circle A' no longer has a channel."
    missing = pairtime(["circles", "remove", "Circle Z"], env, tmp_path)
    assert missing.stderr.strip() == (
        "pairtime circles remove: there is no circle called 'Circle Z' in slack:T1 "
        "(circles: Circle A, Circle B)"
    )
    removed = pairtime(["circles", "remove", "Circle A"], env, tmp_path)
    assert removed.stdout.strip() == "Removed the circle 'Circle A'; its 2 member(s) stay."
    assert pairtime(["circles", "list"], env, tmp_path).stdout.splitlines() == [
        "Circle B (1 member(s), meets in 19:abc@thread.tacv2)",
        "  ben <ben@example.org>",
    ]
    with sqlite3.connect(tmp_path / "pairtime.db") as db:
        assert db.execute("SELECT count(*) FROM group_members").fetchone() == (1,)
        # Nobody from the rejected lines: cy's line named a channel already taken.
        assert db.execute("SELECT count(*) FROM people").fetchone() == (2,)


def test_admins_grant_list_revoke(env, tmp_path: Path):
    pairtime(["db", "upgrade"], env, tmp_path)
    granted = pairtime(
        ["admins", "grant", "lead@example.org", "--program", "teams:tenant"], env, tmp_path
    )
    assert granted.stdout.strip() == "lead <lead@example.org> is now an admin of teams:tenant."
    assert pairtime(["admins", "list"], env, tmp_path).stdout.strip() == "lead <lead@example.org>"
    revoked = pairtime(["admins", "revoke", "lead@example.org"], env, tmp_path)
    assert (
        revoked.stdout.strip() == "lead <lead@example.org> is no longer an admin of teams:tenant."
    )
    missing = pairtime(["admins", "revoke", "who@example.org"], env, tmp_path)
    assert missing.returncode == 2
    assert missing.stderr.strip() == (
        "pairtime admins revoke: nobody called 'who@example.org' is known in teams:tenant"
    )


def test_commands_refuse_an_unprepared_database_and_a_missing_program(env, tmp_path: Path):
    result = pairtime(["pairs", "list"], env, tmp_path)
    assert result.returncode == 2
    assert "run `pairtime db upgrade` first" in result.stderr
    pairtime(["db", "upgrade"], env, tmp_path)
    result = pairtime(["pairs", "list"], env, tmp_path)
    assert result.stderr.strip().startswith("pairtime pairs list: there is no program yet")
    bad = pairtime(["pairs", "list", "--program", "irc:x"], env, tmp_path)
    assert "is not a program id" in bad.stderr


def test_keys_rotate_moves_secrets_to_the_first_key(env, tmp_path: Path):
    pairtime(["db", "upgrade"], env, tmp_path)
    result = pairtime(["keys", "rotate"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Every stored secret was already encrypted under the first key."
    no_keys = pairtime(["keys", "rotate"], {**env, "PAIRTIME_ENCRYPTION_KEYS": ""}, tmp_path)
    assert no_keys.returncode == 2
    assert "PAIRTIME_ENCRYPTION_KEYS is not set" in no_keys.stderr


def test_an_unreachable_database_is_one_clear_line(env, tmp_path: Path):
    unreachable = {
        **env,
        "PAIRTIME_DATABASE_URL": "postgresql+asyncpg://nobody:s3cret@127.0.0.1:1/x",
    }
    result = run_pairtime(["db", "upgrade"], env=unreachable, cwd=tmp_path)  # the real exit
    assert result.returncode == 78
    assert result.stderr.startswith("pairtime db upgrade: cannot use the database: ")
    assert result.stderr.count("\n") == 1
    assert "s3cret" not in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_refuses_a_database_that_is_behind_unless_told_to_migrate(env, tmp_path: Path):
    # That it creates a new one is shown by test_serve.py's first start.
    behind = tmp_path / "behind.db"
    with sqlite3.connect(behind) as connection:  # someone else's tables, no Pairtime schema
        connection.execute("CREATE TABLE notes (x TEXT)")
    behind_env = {**env, "PAIRTIME_DATABASE_URL": f"sqlite+aiosqlite:///{behind}"}
    refused = run_pairtime(["serve", "--port", "0"], env=behind_env, cwd=tmp_path)
    assert refused.returncode == 78
    assert "run `pairtime db upgrade`" in refused.stderr
    assert "pairtime serve --migrate" in refused.stderr
    migrated = start_serve(["--migrate"], env=behind_env, cwd=tmp_path)
    migrated.stop()
    assert migrated.process.returncode == 0


def test_program_rules_are_shown_and_changed_from_the_command_line(env, tmp_path: Path):
    pairtime(["db", "upgrade"], env, tmp_path)
    shown = pairtime(["program", "show", "--program", "slack:T1"], env, tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "  Meeting hours: 08:00 to 18:00, in each person's own time zone" in shown.stdout
    assert "  All-day events: count as busy" in shown.stdout
    changed = pairtime(
        [
            "program", "set", "--earliest", "09:30", "--latest", "16:00", "--weekends", "yes",
            "--duration", "45", "--providers", "google,icloud", "--timezone", "Europe/Madrid",
            "--all-day-events", "as_marked",
        ],
        env,
        tmp_path,
    )  # fmt: skip
    assert changed.returncode == 0, changed.stderr
    lines = pairtime(["program", "show"], env, tmp_path).stdout.splitlines()
    assert "  Meeting hours: 09:30 to 16:00, in each person's own time zone" in lines
    assert "  Weekends: allowed" in lines
    assert "  All-day events: count as their calendar marks them" in lines
    assert "  Default length: 45 minutes" in lines
    assert "  Calendar services: Google, iCloud" in lines
    assert "  Zone assumed when a profile has none: Europe/Madrid" in lines
    for bad, message in (
        (["--earliest", "9am"], "--earliest: expected a time of day as HH:MM"),
        (["--latest", "08:00"], "--latest: must be later than --earliest"),
        (["--providers", "yahoo"], "--providers: is a comma-separated list"),
        (["--timezone", "Mars/Base"], "--timezone: unknown time zone 'Mars/Base'"),
        (["--granularity", "7"], "--granularity: must divide a day"),
        (["--notice", "99999999999"], "--notice: must be at most 527040 minutes"),
    ):
        refused = pairtime(["program", "set", *bad], env, tmp_path)
        assert refused.returncode == 2
        assert refused.stderr.startswith(f"pairtime program set: {message}")

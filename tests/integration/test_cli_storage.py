"""The storage commands as an admin runs them: db, keys, pairs, circles, admins, and serve's
schema check."""

from __future__ import annotations

import json
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


def test_pairs_import_is_all_or_nothing_and_names_every_line(env, tmp_path: Path):
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
    command = ["pairs", "import", str(roster), "--program", "slack:T1"]
    refused = pairtime(command, env, tmp_path)
    assert refused.returncode == 2  # bad lines: nothing imported
    assert refused.stdout.splitlines() == [
        (
            "line 2: new: pair ana@example.org → ben@example.org (new: ana@example.org, "
            "ben@example.org)"
        ),
        "line 3: new: pair ana@example.org → U024BE7LH (new: U024BE7LH)",
        "line 4: error: 'not an email' is neither an email address nor a chat user id",
        "line 5: error: expected two columns, mentor and mentee; got 'ana@example.org'",
        "line 6: error: a person cannot mentor themselves",
        "line 7: unchanged: already paired ana@example.org → ben@example.org",
    ]
    assert refused.stderr.splitlines() == [
        (
            "pairtime pairs import: 3 of 6 line(s) have errors (listed above), so nothing was "
            "imported: fix them and import again, or import the good lines with --partial"
        )
    ]
    assert pairtime(["pairs", "list"], env, tmp_path).stdout.startswith("No pairs in slack:T1")

    partial = pairtime([*command, "--partial"], env, tmp_path)
    assert partial.returncode == 1  # imported, some lines skipped
    assert partial.stdout.splitlines()[-1] == (
        "Imported 2 new line(s) into the track 'Main'; 1 unchanged; 3 line(s) with errors skipped."
    )
    listed = pairtime(["pairs", "list"], env, tmp_path)  # the only program is chosen
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines() == [
        "ana <ana@example.org> → ben <ben@example.org> (track Main)",
        "ana <ana@example.org> → U024BE7LH (track Main)",
    ]  # by name, ignoring case
    with sqlite3.connect(tmp_path / "pairtime.db") as db:
        # Nobody from the refused lines, and nobody twice.
        assert db.execute("SELECT count(*) FROM people").fetchone() == (3,)


def test_tracks_and_their_rules_from_the_command_line(env, tmp_path: Path):
    pairtime(["db", "upgrade"], env, tmp_path)
    roster = tmp_path / "pairs.csv"
    roster.write_text("ana@example.org,ben@example.org\n", encoding="utf-8")
    created = pairtime(["tracks", "create", "Engineering", "--program", "slack:T1"], env, tmp_path)
    assert created.stdout.strip() == "Created the track 'Engineering'."
    imported = pairtime(["pairs", "import", str(roster), "--track", "Engineering"], env, tmp_path)
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.splitlines()[-1] == (
        "Imported 1 new line(s) into the track 'Engineering'; 0 unchanged."
    )
    changed = pairtime(
        ["program", "set", "--track", "Engineering", "--earliest", "10:00", "--weekends", "yes"],
        env,
        tmp_path,
    )
    assert changed.stdout.strip() == "Saved the rules of the track 'Engineering' of slack:T1."
    shown = pairtime(["program", "show", "--track", "Engineering"], env, tmp_path).stdout
    assert "  * Earliest start: 10:00" in shown.splitlines()
    assert "    Latest end: 18:00" in shown.splitlines()
    assert "    Weekends: offered" not in shown  # its own
    assert "  * Weekends: offered" in shown.splitlines()
    assert pairtime(["tracks", "list"], env, tmp_path).stdout.splitlines() == [
        "Engineering (sets earliest, weekends)"
    ]
    inherit = pairtime(
        ["program", "set", "--track", "Engineering", "--inherit", "earliest"], env, tmp_path
    )
    assert inherit.returncode == 0, inherit.stderr
    assert (
        "    Earliest start: 08:00"
        in pairtime(
            ["program", "show", "--track", "Engineering"], env, tmp_path
        ).stdout.splitlines()
    )
    wrong = pairtime(["program", "set", "--track", "Sales", "--earliest", "09:00"], env, tmp_path)
    assert wrong.returncode == 2
    assert wrong.stderr.strip() == (
        "pairtime program set: there is no track called 'Sales' in slack:T1 (tracks: Engineering)"
    )
    assert pairtime(["tracks", "create", "Sales"], env, tmp_path).returncode == 0
    moved = pairtime(
        ["pairs", "move", "ana@example.org", "ben@example.org", "--track", "Sales"], env, tmp_path
    )
    assert (
        moved.stdout.strip()
        == "ana <ana@example.org> → ben <ben@example.org> is in the track 'Sales'."
    )
    archived = pairtime(["tracks", "archive", "Engineering"], env, tmp_path)
    assert archived.returncode == 0, archived.stderr
    assert pairtime(["tracks", "list"], env, tmp_path).stdout.splitlines() == [
        "Engineering (archived; sets weekends)",
        "Sales",
    ]
    granted = pairtime(["admins", "grant", "lead@example.org", "--track", "Sales"], env, tmp_path)
    assert granted.stdout.strip() == (
        "lead <lead@example.org> is now an admin of the track 'Sales' of slack:T1."
    )
    assert pairtime(["admins", "list"], env, tmp_path).stdout.strip() == (
        "lead <lead@example.org> (tracks: Sales)"
    )


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
        "Circle A,ben@example.org\n"
        "Circle C,dee@example.org,javascript:alert(1)\n",
        encoding="utf-8",
    )
    command = ["circles", "import", str(roster), "--program", "slack:T1", "--partial"]
    result = pairtime(command, env, tmp_path)
    assert result.returncode == 1, result.stderr
    assert result.stdout.splitlines() == [
        (
            "line 2: new: add ana@example.org → Circle A (new circle, meets in C0AAAA, "
            "new: ana@example.org)"
        ),
        "line 3: new: add ben@example.org → Circle A (new: ben@example.org)",
        "line 4: new: add ben@example.org → Circle B (new circle, meets in C0BBBB)",
        "line 5: error: C0AAAA is already the channel of the circle 'Circle A'",
        "line 6: error: 'not an email' is neither an email address nor a chat user id",
        "line 7: error: expected circle, member and optionally channel; got 'Circle A'",
        "line 8: unchanged: ben@example.org is in Circle A already",
        (
            "line 9: error: 'javascript:alert(1)' is not a link to a Slack or Teams channel: copy "
            "the channel's link in Slack or Teams, or give its id"
        ),
        "Imported 3 new line(s) into the track 'Main'; 1 unchanged; 4 line(s) with errors skipped.",
    ]
    again = pairtime(command, env, tmp_path)
    assert "new:" not in again.stdout  # running the file again changes nothing
    listed = pairtime(["circles", "list"], env, tmp_path)
    assert listed.stdout.splitlines() == [
        "Circle A (2 member(s), meets in C0AAAA, track Main)",
        "  ana <ana@example.org>",
        "  ben <ben@example.org>",
        "Circle B (1 member(s), meets in C0BBBB, track Main)",
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
    foreign = pairtime(
        ["circles", "link", "Circle B", "https://slack.com.evil.example/archives/C0X"],
        env,
        tmp_path,
    )
    assert foreign.returncode == 2
    assert "is not a link to a Slack or Teams channel" in foreign.stderr
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
        "Circle B (1 member(s), meets in 19:abc@thread.tacv2, track Main)",
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
    assert "  Earliest start: 08:00" in shown.stdout.splitlines()
    assert "  All-day events marked free: count as busy" in shown.stdout.splitlines()
    changed = pairtime(
        [
            "program", "set", "--earliest", "09:30", "--latest", "16:00", "--weekends", "yes",
            "--duration", "45", "--providers", "google,icloud", "--timezone", "Europe/Madrid",
            "--all-day-events", "as_marked", "--tentative", "free",
            "--availability-visible-to", "program", "--retention-days", "730",
        ],
        env,
        tmp_path,
    )  # fmt: skip
    assert changed.returncode == 0, changed.stderr
    lines = pairtime(["program", "show"], env, tmp_path).stdout.splitlines()
    assert lines == [
        "Program slack:T1",
        "  Earliest start: 09:30",
        "  Latest end: 16:00",
        "  Weekends: offered",
        "  Default meeting length: 45 minutes",
        "  Start times every: 30 minutes",
        "  Minimum notice: 60 minutes",
        "  Buffer around busy times: 0 minutes",
        "  Tentative events: count as free",
        "  All-day events marked free: count as their calendar marks them",
        # Google is allowed, but this server has no Google app: only admins read that.
        (
            "  Calendar services: iCloud; allowed, but not set up on this server: "
            "Google (add GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET)"
        ),
        "  Confirmation: the partner accepts a time first",
        "  Reminder: 15 minutes before",
        "  Location: not said",
        "  Video meeting: none",
        "  Time zone assumed when a profile has none: Europe/Madrid",
        "  Who can find times with whom: anyone in the program",
        "  Keep offers and meetings for: 730 days",
    ]
    for bad, message in (
        (["--earliest", "9am"], "--earliest: expected a time of day as HH:MM"),
        (["--latest", "08:00"], "--latest: must be later than --earliest"),
        (["--providers", "yahoo"], "--providers: is a comma-separated list"),
        (["--timezone", "Mars/Base"], "--timezone: unknown time zone 'Mars/Base'"),
        (["--granularity", "7"], "--granularity: must divide a day"),
        (["--notice", "99999999999"], "--notice: must be at most 527040 minutes"),
        (["--retention-days", "30"], "--retention-days: must be between 90 and 3650 days"),
        (["--inherit", "earliest"], "--inherit is for a track's rules: give --track too"),
    ):
        refused = pairtime(["program", "set", *bad], env, tmp_path)
        assert refused.returncode == 2
        assert refused.stderr.startswith(f"pairtime program set: {message}")


def test_people_export_then_forget_twice(env, tmp_path: Path):
    """A subject access request, then erasure: the export names Ben and his pair; after
    forgetting, the database file names him nowhere, and forgetting again is no error."""
    pairtime(["db", "upgrade"], env, tmp_path)
    roster = tmp_path / "pairs.csv"
    roster.write_text("mentor,mentee\nana@example.org,ben.forgettable@example.org\n")
    assert (
        pairtime(
            ["pairs", "import", str(roster), "--program", "slack:T1"], env, tmp_path
        ).returncode
        == 0
    )
    ben = ["ben.forgettable@example.org", "--program", "slack:T1"]

    exported = pairtime(["people", "export", *ben], env, tmp_path)
    assert exported.returncode == 0, exported.stderr
    document = json.loads(exported.stdout)
    assert document["person"]["email"] == "ben.forgettable@example.org"
    assert document["pairs"] == [{"program": "slack:T1", "role": "mentee", "partner": "ana"}]

    forgot = pairtime(["people", "forget", *ben], env, tmp_path)
    assert forgot.returncode == 0, forgot.stderr
    assert forgot.stdout.splitlines()[0] == "Forgot ben.forgettable:"
    assert "  pairs: 1" in forgot.stdout.splitlines()
    assert b"ben.forgettable" not in (tmp_path / "pairtime.db").read_bytes()

    again = pairtime(["people", "forget", *ben], env, tmp_path)
    assert again.returncode == 0
    assert again.stdout.startswith("Nothing to forget: nobody called")
    gone = pairtime(["people", "export", *ben], env, tmp_path)
    assert gone.returncode == 2
    assert "nobody called" in gone.stderr

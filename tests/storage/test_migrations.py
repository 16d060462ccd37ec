"""Migrations: from empty to head and back, on both databases."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import JSON, column, insert, inspect, table, text

from core.meetings import MeetingStatus
from core.people import PersonId
from core.polls import Choice, Click
from core.time import Interval
from storage import migrate
from storage.crypto import Vault, generate_key
from storage.database import Database
from storage.models import Base, UTCDateTime
from storage.repositories.jobs import SqlJobs
from storage.repositories.meetings import SqlMeetings
from storage.repositories.polls import SqlPolls

NOW = datetime(2026, 11, 25, 10, tzinfo=UTC)
SLACK_TABLES = {"slack_installations", "slack_bots", "slack_oauth_states"}


async def table_names(database: Database) -> set[str]:
    async with database.engine.connect() as connection:
        return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))


async def test_upgrade_from_empty_to_head_and_back(empty_database: Database):
    assert await migrate.current_revision(empty_database) is None
    assert not await migrate.is_current(empty_database)

    await migrate.upgrade(empty_database)
    assert await migrate.current_revision(empty_database) == migrate.head_revision()
    assert await migrate.is_current(empty_database)
    tables = await table_names(empty_database)
    assert set(Base.metadata.tables) | SLACK_TABLES <= tables

    await migrate.downgrade(empty_database)
    assert await migrate.current_revision(empty_database) is None
    assert await table_names(empty_database) <= {"alembic_version"}

    await migrate.upgrade(empty_database)  # and up again: downgrade left nothing behind
    assert await migrate.is_current(empty_database)


async def test_the_migrated_schema_matches_the_models(database: Database):
    """Autogenerate finds nothing to do: models and migrations agree."""

    def differences(sync):
        context = MigrationContext.configure(sync, opts={"compare_type": True})
        return [
            diff
            for diff in compare_metadata(context, Base.metadata)
            # slack_sdk's tables are created by the migration but not mapped as models.
            if not (diff[0] == "remove_table" and diff[1].name in SLACK_TABLES)
            and not (diff[0] == "remove_index" and diff[1].table.name in SLACK_TABLES)
        ]

    async with database.engine.connect() as connection:
        assert await connection.run_sync(differences) == []


async def test_connect_links_issued_before_browser_binding_survive_it(empty_database: Database):
    """0003 adds the claiming browser to connect links; links already issued keep working."""
    await migrate.upgrade(empty_database, "0002")
    async with empty_database.engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO people (id, name, created_at, updated_at) "
                "VALUES ('p1', 'Ana', :now, :now)"
            ),
            {"now": NOW},
        )
        await connection.execute(
            text(
                "INSERT INTO connect_states (state, person_id, platform, workspace, user_id, "
                "provider, created_at, expires_at) "
                "VALUES ('s1', 'p1', 'slack', 'T1', 'U1', 'icloud', :now, :later)"
            ),
            {"now": NOW, "later": NOW + timedelta(minutes=15)},
        )
    await migrate.upgrade(empty_database)
    async with empty_database.engine.connect() as connection:
        row = (await connection.execute(text("SELECT state, browser FROM connect_states"))).one()
    assert tuple(row) == ("s1", None)


async def test_google_connections_made_before_events_were_read_are_marked(
    empty_database: Database,
):
    """0005 keeps every connection and marks the Google ones, whose grant hides events
    marked free, so that their owners are asked to reconnect."""
    await migrate.upgrade(empty_database, "0004")
    async with empty_database.engine.begin() as connection:
        for person, provider in (("p-ana", "google"), ("p-sam", "icloud")):
            await connection.execute(
                text(
                    "INSERT INTO people (id, name, created_at, updated_at) "
                    "VALUES (:id, :name, :now, :now)"
                ),
                {"id": person, "name": person, "now": datetime(2026, 10, 1, tzinfo=UTC)},
            )
            await connection.execute(
                text(
                    "INSERT INTO calendar_connections (person_id, provider, account, status, "
                    "secret, connected_at, updated_at) VALUES (:person, :provider, NULL, "
                    "'connected', 'sealed', :now, :now)"
                ),
                {"person": person, "provider": provider, "now": datetime(2026, 11, 1, tzinfo=UTC)},
            )
    await migrate.upgrade(empty_database)
    async with empty_database.engine.connect() as connection:
        rows = (
            await connection.execute(
                text(
                    "SELECT person_id, secret, misses_free_events, reconnect_asked_at, away_days "
                    "FROM calendar_connections ORDER BY person_id"
                )
            )
        ).all()
    assert [tuple(row) for row in rows] == [
        ("p-ana", "sealed", True, None, None),
        ("p-sam", "sealed", False, None, None),
    ]


async def test_existing_meetings_survive_the_lifecycle_migration(empty_database: Database):
    """Meetings booked before meetings had a life are confirmed ones after it, intact."""
    await migrate.upgrade(empty_database, "0005")
    async with empty_database.engine.begin() as connection:
        for statement in (
            (
                "INSERT INTO programs (id, name, settings, created_at) "
                "VALUES ('slack:T1', 'P', '{}', '2026-11-01 09:00:00+00:00')"
            ),
            (
                "INSERT INTO people (id, name, created_at, updated_at) VALUES "
                "('p-ana', 'Ana', '2026-11-01 09:00:00+00:00', '2026-11-01 09:00:00+00:00'), "
                "('p-ben', 'Ben', '2026-11-01 09:00:00+00:00', '2026-11-01 09:00:00+00:00')"
            ),
            (
                'INSERT INTO meetings (ref, program_id, organizer_id, start, "end", title, '
                "status, sequence, created_at) VALUES ('m1', 'slack:T1', 'p-ana', "
                "'2026-12-01 10:00:00+00:00', '2026-12-01 10:30:00+00:00', 'Mentoring', "
                "'booked', 2, '2026-11-01 09:00:00+00:00'), ('m2', 'slack:T1', 'p-ana', "
                "'2026-12-02 10:00:00+00:00', '2026-12-02 10:30:00+00:00', 'Mentoring', "
                "'cancelled', 3, '2026-11-01 09:00:00+00:00')"
            ),
            (
                "INSERT INTO meeting_participants (meeting_ref, person_id, position) VALUES "
                "('m1', 'p-ana', 0), ('m1', 'p-ben', 1), ('m2', 'p-ana', 0), ('m2', 'p-ben', 1)"
            ),
        ):
            await connection.exec_driver_sql(statement)

    await migrate.upgrade(empty_database)
    meetings = SqlMeetings(empty_database, SqlJobs(empty_database))
    kept = await meetings.get("m1")
    assert kept is not None
    assert (kept.status, kept.sequence, kept.participants) == (
        MeetingStatus.CONFIRMED,
        2,
        ("p-ana", "p-ben"),
    )
    assert (kept.proposer, kept.location, kept.declined) == (None, None, ())
    gone = await meetings.get("m2")
    assert gone is not None
    assert gone.status is MeetingStatus.CANCELLED
    window = Interval(datetime(2026, 12, 1, tzinfo=UTC), datetime(2026, 12, 3, tzinfo=UTC))
    ben = PersonId("p-ben")
    assert await meetings.busy([ben], window) == {ben: [kept.span]}

    await migrate.downgrade(empty_database, "0005")
    async with empty_database.engine.connect() as connection:
        rows = await connection.exec_driver_sql("SELECT ref, status FROM meetings ORDER BY ref")
        assert [tuple(row) for row in rows.all()] == [("m1", "booked"), ("m2", "cancelled")]
        kept_people = await connection.exec_driver_sql("SELECT count(*) FROM meeting_participants")
        assert kept_people.scalar() == 4


async def test_open_polls_keep_their_deadline_and_reminder_as_jobs(empty_database: Database):
    """0004 moves poll deadlines from a clock that read the polls table to jobs: a poll
    posted before the upgrade still closes, and its invitees are still reminded."""
    await migrate.upgrade(empty_database, "0003")
    deadline = NOW + timedelta(days=3)
    # The tables as they were at 0003 (the models are at head).
    programs = table(
        "programs",
        column("id"),
        column("name"),
        column("settings", JSON()),
        column("created_at", UTCDateTime()),
    )
    people = table(
        "people",
        column("id"),
        column("name"),
        column("created_at", UTCDateTime()),
        column("updated_at", UTCDateTime()),
    )
    polls = table(
        "polls",
        *(column(name) for name in ("ref", "program_id", "organizer_id", "title", "status")),
        *(column(name) for name in ("duration_minutes", "connected")),
        *(column(name, UTCDateTime()) for name in ("deadline", "created_at", "posted_at")),
    )
    async with empty_database.engine.begin() as connection:
        await connection.execute(
            insert(programs).values(id="slack:T1", name="P", settings={}, created_at=NOW)
        )
        await connection.execute(
            insert(people).values(id="p1", name="Ana", created_at=NOW, updated_at=NOW)
        )
        for ref, status, due in (
            ("open", "open", deadline),
            ("no-deadline", "open", None),
            ("closed", "closed", deadline),
        ):
            await connection.execute(
                insert(polls).values(
                    ref=ref,
                    program_id="slack:T1",
                    organizer_id="p1",
                    title="Circle",
                    duration_minutes=60,
                    status=status,
                    deadline=due,
                    connected=0,
                    created_at=NOW,
                    posted_at=NOW,
                )
            )
    await migrate.upgrade(empty_database)
    jobs = SqlJobs(empty_database)
    close = await jobs.state("poll.close:open")
    nudge = await jobs.state("poll.nudge:open")
    assert close is not None
    assert nudge is not None
    assert (close.kind, close.payload, close.due_at) == ("poll.close", {"poll": "open"}, deadline)
    assert (nudge.kind, nudge.due_at) == ("poll.nudge", deadline - timedelta(hours=24))
    for ref in ("no-deadline", "closed"):
        assert await jobs.state(f"poll.close:{ref}") is None
        assert await jobs.state(f"poll.nudge:{ref}") is None


async def test_organisation_grants_kept_from_before_cover_their_one_domain(
    empty_database: Database,
):
    """The organisation-connections revision keeps an existing grant, its domain becoming
    its list of domains, connected, and adds the table of who is not read."""
    await migrate.upgrade(empty_database, "0006")
    async with empty_database.engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO programs (id, name, settings, created_at) "
                "VALUES ('slack:T1', 'Example', '{}', :now)"
            ),
            {"now": NOW},
        )
        await connection.execute(
            text(
                "INSERT INTO organization_grants (program_id, provider, domain, secret, "
                "created_at) VALUES ('slack:T1', 'google', 'Example.org', 'sealed', :now)"
            ),
            {"now": NOW},
        )
    await migrate.upgrade(empty_database)
    async with empty_database.engine.connect() as connection:
        row = (
            await connection.execute(
                text("SELECT domain, domains, status, secret, can_write FROM organization_grants")
            )
        ).one()
        tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    domains = row.domains if isinstance(row.domains, list) else json.loads(row.domains)
    assert (row.domain, domains, row.status, row.secret, bool(row.can_write)) == (
        "Example.org",
        ["example.org"],
        "connected",
        "sealed",
        False,
    )
    assert "organization_exclusions" in tables


async def test_votes_cast_before_ballots_were_kept_still_count_and_toggle(
    empty_database: Database,
):
    """0008 keeps every vote; a vote from before counts as one click at its updated_at."""
    await migrate.upgrade(empty_database, "0007")
    rows = {
        "programs": {"id": "slack:T1", "name": "P", "settings": {}, "created_at": NOW},
        "people": {"id": "p1", "name": "Ana", "created_at": NOW, "updated_at": NOW},
        "polls": {
            "ref": "p",
            "program_id": "slack:T1",
            "organizer_id": "p1",
            "title": "Circle",
            "duration_minutes": 60,
            "status": "open",
            "connected": 0,
            "created_at": NOW,
        },
        "poll_options": {
            "id": 1,
            "poll_ref": "p",
            "start": NOW,
            "end": NOW,
            "position": 0,
            "busy_count": 0,
        },
        "poll_votes": {
            "option_id": 1,
            "person_id": "p1",
            "poll_ref": "p",
            "choice": "yes",
            "updated_at": NOW,
        },
    }
    async with empty_database.engine.begin() as connection:
        for name, values in rows.items():
            columns = (
                column(key, UTCDateTime() if isinstance(value, datetime) else JSON())
                if isinstance(value, datetime | dict)
                else column(key)
                for key, value in values.items()
            )
            await connection.execute(insert(table(name, *columns)).values(**values))
    await migrate.upgrade(empty_database)
    polls = SqlPolls(empty_database, SqlJobs(empty_database))
    (kept,) = await polls.votes("p")
    assert (kept.option, kept.person, kept.choice, kept.at) == (1, "p1", Choice.YES, NOW)
    assert (await polls.counted("p")).version == 0
    # Clicked again ten seconds later: withdrawn, as it would have been before.
    ballot = await polls.cast(
        "p", 1, PersonId("p1"), Click(Choice.YES, NOW + timedelta(seconds=10), "c1")
    )
    assert ballot is not None
    assert ballot.vote is None
    assert await polls.votes("p") == []
    assert (await polls.counted("p")).version == 1


async def test_existing_pairs_and_circles_land_in_a_main_track(empty_database: Database):
    """0009 gives every program one track, "Main", with everything it had and no rule of its
    own: searches find the times they found before."""
    await migrate.upgrade(empty_database, "0008")
    async with empty_database.engine.begin() as connection:
        for program in ("slack:T1", "teams:X"):
            await connection.execute(
                text(
                    "INSERT INTO programs (id, name, settings, created_at) "
                    "VALUES (:id, 'P', '{}', :now)"
                ),
                {"id": program, "now": NOW},
            )
        for person in ("p1", "p2"):
            await connection.execute(
                text(
                    "INSERT INTO people (id, name, created_at, updated_at) "
                    "VALUES (:id, :id, :now, :now)"
                ),
                {"id": person, "now": NOW},
            )
        await connection.execute(
            text(
                "INSERT INTO pairings (program_id, mentor_id, mentee_id) "
                "VALUES ('slack:T1', 'p1', 'p2')"
            )
        )
        await connection.execute(
            text("INSERT INTO groups (id, program_id, name) VALUES ('g1', 'slack:T1', 'North')")
        )
        await connection.execute(
            text("INSERT INTO group_members (group_id, person_id) VALUES ('g1', 'p1')")
        )

    await migrate.upgrade(empty_database)

    async with empty_database.engine.connect() as connection:
        tracks = (
            await connection.execute(text("SELECT id, program_id, name FROM tracks ORDER BY 2"))
        ).all()
        pair_track = (await connection.execute(text("SELECT track_id FROM pairings"))).scalar()
        group_track = (await connection.execute(text("SELECT track_id FROM groups"))).scalar()
        members = (await connection.execute(text("SELECT count(*) FROM group_members"))).scalar()
    assert [(program, name) for _, program, name in tracks] == [
        ("slack:T1", "Main"),
        ("teams:X", "Main"),
    ]
    assert pair_track == group_track == tracks[0][0]
    assert members == 1  # no copy of groups emptied its members


async def _scalar(database: Database, sql: str) -> Any:
    async with database.engine.connect() as connection:
        return (await connection.execute(text(sql))).scalar()


async def _connections_before_sealing(database: Database, vault: Vault) -> None:
    """At 0011: an iCloud connection with its Apple ID in plain text, and an Exchange
    organisation connection whose user name is a plain setting."""
    await migrate.upgrade(database, "0011")
    async with database.engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO programs (id, name, settings, created_at) "
                "VALUES ('slack:T1', 'Example', '{}', :now)"
            ),
            {"now": NOW},
        )
        await connection.execute(
            text(
                "INSERT INTO people (id, name, created_at, updated_at) "
                "VALUES ('p-ana', 'Ana', :now, :now)"
            ),
            {"now": NOW},
        )
        await connection.execute(
            text(
                "INSERT INTO calendar_connections (person_id, provider, account, status, "
                "secret, connected_at, updated_at) VALUES ('p-ana', 'icloud', "
                "'ana.lima@icloud.com', 'connected', :secret, :now, :now)"
            ),
            {"secret": vault.seal('{"password": "abcd"}'), "now": NOW},
        )
        await connection.execute(
            insert(
                table(
                    "organization_grants",
                    column("program_id"),
                    column("provider"),
                    column("domain"),
                    column("secret"),
                    column("created_at", UTCDateTime()),
                    column("settings", JSON()),
                )
            ).values(
                program_id="slack:T1",
                provider="exchange",
                domain="example.org",
                secret=vault.seal('{"password": "hunter2"}'),
                created_at=NOW,
                settings={"ews_url": "https://mail.example.org/EWS", "username": "svc-mentor"},
            )
        )


async def test_accounts_are_sealed_by_the_migration_and_opened_by_its_downgrade(
    empty_database: Database,
):
    """0012 seals the Apple ID (keeping a masked hint) and moves the EWS user name into the
    organisation's sealed secret; nothing of either is left in plain text."""
    vault = Vault([generate_key()])
    await _connections_before_sealing(empty_database, vault)

    await migrate.upgrade(empty_database, vault=vault)

    async with empty_database.engine.connect() as connection:
        account, hint = (
            await connection.execute(text("SELECT account, account_hint FROM calendar_connections"))
        ).one()
        secret, settings = (
            await connection.execute(text("SELECT secret, settings FROM organization_grants"))
        ).one()
    settings = settings if isinstance(settings, dict) else json.loads(settings)
    assert "ana.lima" not in account
    assert vault.open(account) == "ana.lima@icloud.com"
    assert hint == "a•••@icloud.com"
    assert settings == {"ews_url": "https://mail.example.org/EWS"}
    assert json.loads(vault.open(secret)) == {
        "password": "hunter2",
        "identifiers": {"username": "svc-mentor"},
    }

    await migrate.downgrade(empty_database, "0011", vault=vault)
    account = await _scalar(empty_database, "SELECT account FROM calendar_connections")
    settings = await _scalar(empty_database, "SELECT settings FROM organization_grants")
    settings = settings if isinstance(settings, dict) else json.loads(settings)
    assert account == "ana.lima@icloud.com"
    assert settings["username"] == "svc-mentor"


async def test_sealing_accounts_without_the_keys_refuses_and_changes_nothing(
    empty_database: Database,
):
    vault = Vault([generate_key()])
    await _connections_before_sealing(empty_database, vault)

    with pytest.raises(RuntimeError, match="PAIRTIME_ENCRYPTION_KEYS"):
        await migrate.upgrade(empty_database)

    assert await migrate.current_revision(empty_database) == "0011"
    account = await _scalar(empty_database, "SELECT account FROM calendar_connections")
    assert account == "ana.lima@icloud.com"

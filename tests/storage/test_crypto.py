"""Secrets at rest: sealing, wrong keys, rotation."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text

from core.calendars import ConnectionStatus
from core.commands import Provider
from core.people import ChatIdentity, PersonId, Platform, Profile, ProgramId
from storage import models
from storage.crypto import SecretUnavailable, Vault, development_keys, generate_key
from storage.database import Database
from storage.rotation import rotate
from storage.store import Storage

NOW = datetime(2026, 11, 25, 10, tzinfo=UTC)
TOKEN = "ya29.RECOGNISABLE-ACCESS-TOKEN-0123456789"


def test_a_sealed_value_opens_with_its_key_only():
    vault = Vault([generate_key()])
    sealed = vault.seal(TOKEN)
    assert TOKEN not in sealed
    assert vault.open(sealed) == TOKEN
    with pytest.raises(SecretUnavailable) as caught:
        Vault([generate_key()]).open(sealed)
    assert TOKEN not in str(caught.value)
    assert "key" not in repr(vault).lower().replace("keys=1", "")


def test_rotation_keys_old_values_still_open():
    old, new = generate_key(), generate_key()
    sealed = Vault([old]).seal("secret")
    both = Vault([new, old])
    assert both.open(sealed) == "secret"
    assert not both.is_current(sealed)
    resealed = both.reseal(sealed)
    assert both.is_current(resealed)
    assert Vault([new]).open(resealed) == "secret"


def test_a_development_key_is_created_once_with_owner_only_permissions(tmp_path: Path, caplog):
    with caplog.at_level(logging.WARNING):
        first = development_keys(tmp_path)
    assert "generated a development key" in caplog.text
    key_file = tmp_path / ".pairtime" / "dev-encryption-key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert development_keys(tmp_path) == first
    Vault(first).open(Vault(first).seal("x"))


async def connected(storage: Storage, name: str, token: str) -> models.CalendarConnection:
    program = ProgramId("slack:T1")
    await storage.programs.ensure(program, "Program")
    person = await storage.people.remember(
        program, ChatIdentity(Platform.SLACK, "T1", f"U{name}"), Profile(name)
    )
    await storage.connections.replace(
        person.id, Provider.GOOGLE, f"{name}@example.org", {"refresh_token": token}, NOW
    )
    async with storage.database.transaction() as session:
        row = await session.scalar(
            select(models.CalendarConnection).where(
                models.CalendarConnection.person_id == person.id
            )
        )
        assert row is not None
        return row


async def test_tokens_are_unreadable_in_the_database(storage: Storage):
    row = await connected(storage, "ana", TOKEN)
    async with storage.database.transaction() as session:
        raw = (await session.execute(text("SELECT secret FROM calendar_connections"))).scalar_one()
    assert TOKEN not in raw
    assert json.loads(storage.vault.open(raw)) == {"refresh_token": TOKEN}
    assert row.status == ConnectionStatus.CONNECTED.value


async def test_a_row_no_key_opens_is_reported_and_marked_without_stopping_the_others(
    database: Database, caplog
):
    lost_key = generate_key()
    first = Storage.over(database, Vault([lost_key]))
    lost = await connected(first, "ana", "ana-secret-token")
    other_vault = Vault([generate_key()])
    second = Storage.over(database, other_vault)
    kept = await connected(second, "ben", "ben-secret-token")

    lost_person, kept_person = PersonId(lost.person_id), PersonId(kept.person_id)
    with caplog.at_level(logging.ERROR):
        loaded = await second.connections.load([lost_person, kept_person])
    opened = loaded.opened
    assert list(opened) == [kept_person]
    assert loaded.unopenable == {lost_person: Provider.GOOGLE}
    assert opened[kept_person].secret == {"refresh_token": "ben-secret-token"}
    assert f"calendar connection {lost.id} (person {lost.person_id}, google)" in caplog.text
    assert "ana-secret-token" not in caplog.text
    summary = await second.connections.get(lost_person)
    assert summary is not None
    assert summary.status is ConnectionStatus.KEY_MISSING
    assert "ben-secret-token" not in repr(opened)
    again = await second.connections.load([lost_person])  # reported once, not every read
    assert again.unopenable == {}
    assert again.still_unopenable == {lost_person: Provider.GOOGLE}

    # The admin puts the lost key back: the connection works again, nobody reconnects.
    restored = Storage.over(database, Vault([other_vault.secret_keys()[0], lost_key]))
    back = await restored.connections.load([lost_person])
    assert back.opened[lost_person].secret == {"refresh_token": "ana-secret-token"}
    summary = await restored.connections.get(lost_person)
    assert summary is not None
    assert summary.status is ConnectionStatus.CONNECTED


async def test_rotate_reseals_everything_in_batches_and_can_run_again(database: Database):
    old_key = generate_key()
    old = Storage.over(database, Vault([old_key]))
    for index in range(7):
        await connected(old, f"user{index}", f"token-{index}")
    new_key = generate_key()
    rotating = Vault([new_key, old_key])

    report = await rotate(database, rotating, batch_size=3)
    assert report.resealed == {"calendar_connections": 7}
    assert report.complete
    again = await rotate(database, rotating, batch_size=3)
    assert again.resealed == {}
    assert again.current == {"calendar_connections": 7}

    only_new = Storage.over(database, Vault([new_key]))
    async with database.transaction() as session:
        people = [
            PersonId(p) for p in await session.scalars(select(models.CalendarConnection.person_id))
        ]
    opened = (await only_new.connections.load(people)).opened
    assert sorted(s.secret["refresh_token"] for s in opened.values()) == [
        f"token-{i}" for i in range(7)
    ]


async def test_rotate_reports_values_it_cannot_open(database: Database):
    stranger = Storage.over(database, Vault([generate_key()]))
    row = await connected(stranger, "ana", "x")
    report = await rotate(database, Vault([generate_key()]))
    assert report.unreadable == {"calendar_connections": [str(row.id)]}
    assert not report.complete

"""Programs, their settings and their admins."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select

from core.commands import Provider
from core.people import PersonId, ProgramId
from core.program import (
    ConfirmationRule,
    LocationMode,
    LocationRule,
    ProgramSettings,
    VideoRule,
    Visibility,
)
from core.rules import AllDayEvents, Rules
from core.time import DayTime
from core.tracks import effective
from storage import models
from storage.database import Database
from storage.repositories.sql import affected, insert
from storage.repositories.tracks import track_among

SETTINGS_TTL = 30.0  # seconds; another process's change is seen within this time


class SqlPrograms:
    def __init__(self, database: Database, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._db = database
        self._clock = clock
        # Every request reads its program's settings, often several times: keep them briefly.
        self._settings: dict[ProgramId, tuple[float, ProgramSettings]] = {}

    async def ensure(self, program: ProgramId, name: str) -> None:
        statement = (
            insert(self._db, models.Program)
            .values(id=program, name=name, settings={}, created_at=datetime.now(UTC))
            .on_conflict_do_nothing(index_elements=["id"])
        )
        async with self._db.transaction() as session:
            await session.execute(statement)

    async def known(self) -> list[ProgramId]:
        async with self._db.reading() as session:
            rows = await session.scalars(select(models.Program.id).order_by(models.Program.id))
            return [ProgramId(row) for row in rows]

    async def settings(
        self, program: ProgramId, *, among: Sequence[PersonId] = ()
    ) -> ProgramSettings:
        """The program's rules, or those of the track a search ``among`` people runs under
        (read afresh each time: an admin's change applies to the next search)."""
        base = await self._program_settings(program)
        if not among:
            return base
        return effective(base, await track_among(self._db, program, among))

    async def _program_settings(self, program: ProgramId) -> ProgramSettings:
        cached = self._settings.get(program)
        if cached is not None and self._clock() - cached[0] < SETTINGS_TTL:
            return cached[1]
        async with self._db.reading() as session:
            stored = await session.scalar(
                select(models.Program.settings).where(models.Program.id == program)
            )
        found = settings_from_json(stored or {})
        self._settings[program] = (self._clock(), found)
        return found

    async def save_settings(self, program: ProgramId, settings: ProgramSettings) -> None:
        statement = (
            insert(self._db, models.Program)
            .values(
                id=program,
                name=program,
                settings=settings_to_json(settings),
                created_at=datetime.now(UTC),
            )
            .on_conflict_do_update(
                index_elements=["id"], set_={"settings": settings_to_json(settings)}
            )
        )
        async with self._db.transaction() as session:
            await session.execute(statement)
        self._settings.pop(program, None)

    async def is_admin(self, program: ProgramId, person: PersonId) -> bool:
        async with self._db.reading() as session:
            found = await session.get(models.ProgramAdmin, (program, person))
            return found is not None

    async def grant_admin(self, program: ProgramId, person: PersonId) -> bool:
        """Make ``person`` an admin; False when they already were."""
        statement = (
            insert(self._db, models.ProgramAdmin)
            .values(program_id=program, person_id=person)
            .on_conflict_do_nothing()
        )
        async with self._db.transaction() as session:
            result = await session.execute(statement)
            return bool(affected(result))

    async def revoke_admin(self, program: ProgramId, person: PersonId) -> bool:
        statement = delete(models.ProgramAdmin).where(
            models.ProgramAdmin.program_id == program, models.ProgramAdmin.person_id == person
        )
        async with self._db.transaction() as session:
            result = await session.execute(statement)
            return bool(affected(result))

    async def admins(self, program: ProgramId) -> list[PersonId]:
        async with self._db.reading() as session:
            rows = await session.scalars(
                select(models.ProgramAdmin.person_id).where(
                    models.ProgramAdmin.program_id == program
                )
            )
            return [PersonId(row) for row in rows]


def settings_to_json(settings: ProgramSettings) -> dict[str, Any]:
    rules = settings.rules
    return {
        "rules": {
            "earliest": str(rules.earliest),
            "latest": str(rules.latest),
            "weekends": rules.weekends,
            "granularity_minutes": rules.granularity_minutes,
            "min_notice_minutes": rules.min_notice_minutes,
            "buffer_minutes": rules.buffer_minutes,
            "tentative_is_busy": rules.tentative_is_busy,
            "all_day_events": rules.all_day_events.value,
        },
        "default_duration_minutes": settings.default_duration_minutes,
        "allowed_providers": sorted(p.value for p in settings.allowed_providers),
        "default_timezone": settings.default_timezone,
        "assistant_name": settings.assistant_name,
        "assistant_email": settings.assistant_email,
        "confirmation": settings.confirmation.value,
        "reminder_minutes": settings.reminder_minutes,
        "location": {"mode": settings.location.mode.value, "place": settings.location.place},
        "video": settings.video.value,
        "availability_visible_to": settings.availability_visible_to.value,
        "retention_days": settings.retention_days,
    }


def settings_from_json(data: dict[str, Any]) -> ProgramSettings:
    """Stored settings over the defaults: a key never written keeps its default."""
    defaults = ProgramSettings()
    rules_data = data.get("rules", {})
    base = defaults.rules
    rules = Rules(
        earliest=DayTime.parse(rules_data.get("earliest", str(base.earliest))),
        latest=DayTime.parse(rules_data.get("latest", str(base.latest))),
        weekends=rules_data.get("weekends", base.weekends),
        granularity_minutes=rules_data.get("granularity_minutes", base.granularity_minutes),
        min_notice_minutes=rules_data.get("min_notice_minutes", base.min_notice_minutes),
        buffer_minutes=rules_data.get("buffer_minutes", base.buffer_minutes),
        tentative_is_busy=rules_data.get("tentative_is_busy", base.tentative_is_busy),
        all_day_events=AllDayEvents(rules_data.get("all_day_events", base.all_day_events)),
    )
    providers = data.get("allowed_providers")
    return ProgramSettings(
        rules=rules,
        default_duration_minutes=data.get(
            "default_duration_minutes", defaults.default_duration_minutes
        ),
        allowed_providers=defaults.allowed_providers
        if providers is None
        else frozenset(Provider(p) for p in providers),
        default_timezone=data.get("default_timezone", defaults.default_timezone),
        assistant_name=data.get("assistant_name", defaults.assistant_name),
        assistant_email=data.get("assistant_email", defaults.assistant_email),
        confirmation=ConfirmationRule(data.get("confirmation", defaults.confirmation)),
        reminder_minutes=data.get("reminder_minutes", defaults.reminder_minutes),
        location=_location(data.get("location"), defaults.location),
        video=VideoRule(data.get("video", defaults.video)),
        availability_visible_to=Visibility(
            data.get("availability_visible_to", defaults.availability_visible_to)
        ),
        retention_days=data.get("retention_days", defaults.retention_days),
    )


def _location(data: Any, default: LocationRule) -> LocationRule:
    if not isinstance(data, dict):
        return default
    return LocationRule(LocationMode(data.get("mode", "none")), data.get("place"))

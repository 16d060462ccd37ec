"""Everything stored about one person: exported for a subject access request, or erased.

Erasing keeps what the person counted in, without them: their votes, poll invitations and
meeting places move to an anonymous stand-in (a person row with no name but "Former
participant", no email and no chat account), so tallies, response rates and meeting counts
stay as they were. Whatever names them otherwise goes: their identities, connection,
connect links, console sessions, pairs, circle places, admin roles, offers, the jobs that
mention them (requests kept by the inbox, emails to them), Teams conversation references,
and their name, email, handles and chat ids in meeting and poll titles and in the audit
log, which become "a former participant". On SQLite the file is then vacuumed, so the
deleted bytes leave the file too.
"""

from __future__ import annotations

import contextlib
import json
import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    MetaData,
    String,
    Table,
    Text,
    cast,
    delete,
    func,
    inspect,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from core.jobs import JobStatus
from core.people import PersonId
from core.privacy import FORMER, mentions, scrubbed
from storage import models
from storage.crypto import SecretUnavailable, Vault
from storage.database import Database
from storage.repositories.sql import affected

log = logging.getLogger(__name__)

STAND_IN = "Former participant"
# slack_sdk's table (not mapped here): only the installer's columns.
_SLACK_INSTALLATIONS = Table(
    "slack_installations",
    MetaData(),
    Column("user_id", String),
    Column("user_token", Text),
    Column("user_refresh_token", Text),
    Column("user_scopes", Text),
)


class SqlPersonalData:
    def __init__(self, database: Database, vault: Vault) -> None:
        self._db = database
        self._vault = vault

    # ---------------------------------------------------------------- export

    async def export(self, person: PersonId) -> Mapping[str, Any]:
        async with self._db.reading() as session:
            row = await session.get(models.Person, person)
            if row is None:
                return {}
            return {
                "exported_at": datetime.now(UTC).isoformat(),
                "person": {
                    "id": row.id,
                    "name": row.name,
                    "email": row.email,
                    "timezone": row.timezone,
                    "created_at": _iso(row.created_at),
                    "updated_at": _iso(row.updated_at),
                },
                "chat_accounts": await _identities(session, person),
                "admin_of": await _admin_of(session, person),
                "pairs": await _pairs(session, person),
                "circles": await _circles(session, person),
                "calendar_connection": await self._connection(session, person),
                "organisation_opt_outs": await _opt_outs(session, person),
                "meetings": await _meetings(session, person),
                "polls_organised": await _polls_organised(session, person),
                "poll_invitations": await _invitations(session, person),
                "votes": await _votes(session, person),
                "changes_made_as_admin": await _audit_by(session, person),
            }

    async def _connection(self, session: AsyncSession, person: PersonId) -> dict[str, Any] | None:
        row = await session.scalar(
            select(models.CalendarConnection).where(models.CalendarConnection.person_id == person)
        )
        if row is None:
            return None
        account = row.account_hint
        if row.account:  # with a missing key, the masked hint is what can be given
            with contextlib.suppress(SecretUnavailable):
                account = self._vault.open(row.account)
        return {
            "provider": row.provider,
            "account": account,
            "status": row.status,
            "connected_at": _iso(row.connected_at),
            "last_read": _iso(row.last_sync),
            "note": "the access tokens or password themselves are secrets and not exported",
        }

    # ---------------------------------------------------------------- erase

    async def erase(self, person: PersonId) -> Mapping[str, int]:
        removed: dict[str, int] = {}
        async with self._db.transaction() as session:
            row = await session.get(models.Person, person)
            if row is None:
                return {}
            names = await _names(session, row, self._vault)
            ids = [i.user_id for i in await _identity_rows(session, person)]
            stand_in = models.Person(
                id=f"gone-{uuid.uuid4().hex[:20]}",
                name=STAND_IN,
                email=None,
                timezone=None,
                created_at=row.created_at,
                updated_at=row.created_at,
            )
            session.add(stand_in)
            await session.flush()
            removed.update(await _move_to(session, person, stand_in.id))
            removed.update(await _delete_naming(session, person, ids, names, stand_in.id))
            removed.update(await _scrub(session, person, names))
            await session.delete(row)
            removed["people"] = 1
        if self._db.dialect == "sqlite":
            await _vacuum(self._db)
        return {kind: count for kind, count in removed.items() if count}


# -------------------------------------------------------------------- erasing, step by step


async def _names(session: AsyncSession, person: models.Person, vault: Vault) -> list[str]:
    """Every string that names ``person``: to be scrubbed wherever it was written down."""
    names = [person.name, person.email or ""]
    for identity in await _identity_rows(session, PersonId(person.id)):
        names += [identity.user_id, identity.handle or ""]
    connection = await session.scalar(
        select(models.CalendarConnection).where(models.CalendarConnection.person_id == person.id)
    )
    if connection is not None and connection.account:
        with contextlib.suppress(SecretUnavailable):
            names.append(vault.open(connection.account))
    # A single character would scrub half the text around it; ids and names are longer.
    return [name for name in names if len(name.strip()) > 1]


async def _move_to(session: AsyncSession, person: PersonId, stand_in: str) -> dict[str, int]:
    """What the person counted in, kept in the stand-in's name."""
    moved: dict[str, int] = {}
    for kind, column in (
        ("votes", models.PollVote.person_id),
        ("poll invitations", models.PollInvitee.person_id),
        ("meeting places", models.MeetingParticipant.person_id),
        ("meetings organised", models.Meeting.organizer_id),
        ("meetings proposed", models.Meeting.proposer_id),
        ("polls organised", models.Poll.organizer_id),
    ):
        table = column.class_.__table__
        result = await session.execute(
            update(table).where(column == person).values({column.key: stand_in})
        )
        moved[f"{kind} kept anonymously"] = affected(result)
    return moved


async def _delete_naming(
    session: AsyncSession,
    person: PersonId,
    user_ids: Sequence[str],
    names: Sequence[str],
    stand_in: str,
) -> dict[str, int]:
    deleted: dict[str, int] = {}

    async def drop(kind: str, statement: Any) -> None:
        result = await session.execute(statement)
        deleted[kind] = deleted.get(kind, 0) + affected(result)

    offers = models.SlotOffer
    await drop(
        "slot offers",
        delete(offers).where(
            or_(
                offers.requester_id == person,
                cast(offers.participants, Text).contains(person),
            )
        ),
    )
    await drop(
        "pairs",
        delete(models.Pairing).where(
            or_(models.Pairing.mentor_id == person, models.Pairing.mentee_id == person)
        ),
    )
    await drop(
        "circle places", delete(models.GroupMember).where(models.GroupMember.person_id == person)
    )
    await drop(
        "admin roles", delete(models.ProgramAdmin).where(models.ProgramAdmin.person_id == person)
    )
    await drop(
        "track admin roles", delete(models.TrackAdmin).where(models.TrackAdmin.person_id == person)
    )
    await drop(
        "calendar connections",
        delete(models.CalendarConnection).where(models.CalendarConnection.person_id == person),
    )
    await drop(
        "connect links", delete(models.ConnectState).where(models.ConnectState.person_id == person)
    )
    await drop(
        "organisation opt-outs",
        delete(models.OrganizationExclusion).where(
            models.OrganizationExclusion.person_id == person
        ),
    )
    if user_ids:
        await drop(
            "Teams conversation references",
            delete(models.ConversationReference).where(
                models.ConversationReference.user_id.in_(list(user_ids))
            ),
        )
    await drop(
        "chat accounts", delete(models.ChatIdentity).where(models.ChatIdentity.person_id == person)
    )
    deleted["queued or finished jobs"] = await _jobs(session, person, names, stand_in)
    await session.execute(
        update(models.OrganizationGrant)
        .where(models.OrganizationGrant.granted_by == person)
        .values(granted_by=None)
    )
    deleted["Slack installations (installer removed)"] = await _slack_installer(session, user_ids)
    return deleted


async def _jobs(
    session: AsyncSession, person: PersonId, names: Sequence[str], stand_in: str
) -> int:
    """Jobs that name the person (requests kept by the inbox, emails to them) go. Jobs that
    only refer to them by id (a cancellation to their partner that says who organised it)
    are kept, pointing at the stand-in: the id alone names nobody once they are gone.

    A job a worker is running keeps its row, emptied: among them is the very request that
    asked to forget the person, whose answer ("Done: I removed…") is still to be sent. Its
    worker holds the payload in memory; a row deleted under it reads as taken over by another
    process at the next renewal of its lease, and what is left of its work (that answer) was
    then dropped, as another process's to send."""
    rows = (
        await session.execute(
            select(
                models.Job.id, models.Job.payload, models.Job.status, models.Job.claimed_by
            ).where(_mentions(models.Job.payload, [person, *names]))
        )
    ).all()
    dropped: list[int] = []
    emptied: list[int] = []
    for job, payload, status, claimed_by in rows:
        written = json.dumps(payload, ensure_ascii=False)
        if mentions(written, names):
            running = status == JobStatus.PENDING.value and claimed_by is not None
            (emptied if running else dropped).append(job)
            continue
        if person not in written:
            continue  # another person's work whose text merely contains a name's letters
        await session.execute(
            update(models.Job)
            .where(models.Job.id == job)
            .values(payload=json.loads(written.replace(person, stand_in)))
        )
    if dropped:
        await session.execute(delete(models.Job).where(models.Job.id.in_(dropped)))
    if emptied:
        await session.execute(
            update(models.Job).where(models.Job.id.in_(emptied)).values(payload={})
        )
    return len(dropped) + len(emptied)


def _mentions(column: Any, words: Iterable[str]) -> ColumnElement[bool]:
    """Whether the JSON ``column`` holds any of ``words``, as written or JSON-escaped (a
    payload written with ASCII escapes holds "Mar\\u00eda", not "María")."""
    text = cast(column, Text)
    forms = {form for word in words if word for form in (word, json.dumps(word)[1:-1])}
    return or_(*(text.contains(form) for form in forms))


async def _scrub(session: AsyncSession, person: PersonId, names: Sequence[str]) -> dict[str, int]:
    """Names written down in titles and in the audit log become "a former participant"."""
    scrubbed_rows: dict[str, int] = {}
    await session.execute(
        update(models.AuditEntry)
        .where(models.AuditEntry.actor_id == person)
        .values(actor_id=None, actor=FORMER)
    )
    for kind, key, columns in (
        ("meeting titles", models.Meeting.ref, (models.Meeting.title, models.Meeting.location)),
        ("poll titles", models.Poll.ref, (models.Poll.title,)),
        (
            "audit log entries",
            models.AuditEntry.id,
            (
                models.AuditEntry.actor,
                models.AuditEntry.subject,
                models.AuditEntry.old,
                models.AuditEntry.new,
            ),
        ),
    ):
        lowered = [n.lower() for n in names]
        rows = (
            await session.execute(
                select(key, *columns).where(
                    or_(*(func.lower(c).contains(n) for c in columns for n in lowered))
                )
            )
        ).all()
        for found in rows:
            values = {
                column.key: scrubbed(value, names) if value else value
                for column, value in zip(columns, found[1:], strict=True)
            }
            table = key.class_.__table__
            await session.execute(update(table).where(key == found[0]).values(values))
        scrubbed_rows[f"{kind} scrubbed"] = len(rows)
    return scrubbed_rows


async def _slack_installer(session: AsyncSession, user_ids: Sequence[str]) -> int:
    """slack_sdk's installation row keeps its installer's user id and token: the bot's
    install stays, the installer's part of it goes."""
    if not user_ids:
        return 0
    connection = await session.connection()
    exists = await connection.run_sync(lambda sync: inspect(sync).has_table("slack_installations"))
    if not exists:
        return 0
    table = _SLACK_INSTALLATIONS
    result = await session.execute(
        update(table)
        .where(table.c.user_id.in_(list(user_ids)))
        .values(user_id="", user_token=None, user_refresh_token=None, user_scopes=None)
    )
    return affected(result)


async def _vacuum(database: Database) -> None:
    """Rewrite the SQLite file from its live rows, and empty the write-ahead log, so that
    erased values are not left in free pages."""
    # On the reader's engine: it runs without transactions, and VACUUM cannot run in one.
    async with database.reader.connect() as connection:
        await connection.exec_driver_sql("VACUUM")
        await connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


# -------------------------------------------------------------------- exporting, part by part


async def _identity_rows(session: AsyncSession, person: PersonId) -> list[models.ChatIdentity]:
    return list(
        await session.scalars(
            select(models.ChatIdentity).where(models.ChatIdentity.person_id == person)
        )
    )


async def _identities(session: AsyncSession, person: PersonId) -> list[dict[str, Any]]:
    return [
        {
            "program": row.program_id,
            "platform": row.platform,
            "workspace": row.workspace,
            "user_id": row.user_id,
            "handle": row.handle,
        }
        for row in await _identity_rows(session, person)
    ]


async def _admin_of(session: AsyncSession, person: PersonId) -> dict[str, list[str]]:
    programs = await session.scalars(
        select(models.ProgramAdmin.program_id).where(models.ProgramAdmin.person_id == person)
    )
    tracks = await session.scalars(
        select(models.Track.name)
        .join(models.TrackAdmin, models.TrackAdmin.track_id == models.Track.id)
        .where(models.TrackAdmin.person_id == person)
    )
    return {"programs": list(programs), "tracks": list(tracks)}


async def _pairs(session: AsyncSession, person: PersonId) -> list[dict[str, Any]]:
    rows = await session.scalars(
        select(models.Pairing).where(
            or_(models.Pairing.mentor_id == person, models.Pairing.mentee_id == person)
        )
    )
    pairs = []
    for row in rows:
        mentor = row.mentor_id == person
        partner = await session.get(models.Person, row.mentee_id if mentor else row.mentor_id)
        pairs.append(
            {
                "program": row.program_id,
                "role": "mentor" if mentor else "mentee",
                "partner": partner.name if partner else None,
            }
        )
    return pairs


async def _circles(session: AsyncSession, person: PersonId) -> list[dict[str, Any]]:
    rows = await session.scalars(
        select(models.Group)
        .join(models.GroupMember, models.GroupMember.group_id == models.Group.id)
        .where(models.GroupMember.person_id == person)
    )
    return [{"program": g.program_id, "name": g.name, "channel": g.channel} for g in rows]


async def _opt_outs(session: AsyncSession, person: PersonId) -> list[dict[str, Any]]:
    rows = await session.scalars(
        select(models.OrganizationExclusion).where(models.OrganizationExclusion.person_id == person)
    )
    return [{"program": r.program_id, "reason": r.reason, "since": _iso(r.since)} for r in rows]


async def _meetings(session: AsyncSession, person: PersonId) -> list[dict[str, Any]]:
    rows = (
        await session.execute(
            select(models.Meeting, models.MeetingParticipant.declined)
            .join(
                models.MeetingParticipant,
                models.MeetingParticipant.meeting_ref == models.Meeting.ref,
            )
            .where(models.MeetingParticipant.person_id == person)
            .order_by(models.Meeting.start)
        )
    ).all()
    return [
        {
            "title": meeting.title,
            "start": _iso(meeting.start),
            "end": _iso(meeting.end),
            "status": meeting.status,
            "organiser": meeting.organizer_id == person,
            "declined": bool(declined),
            "location": meeting.location,
        }
        for meeting, declined in rows
    ]


async def _polls_organised(session: AsyncSession, person: PersonId) -> list[dict[str, Any]]:
    rows = await session.scalars(select(models.Poll).where(models.Poll.organizer_id == person))
    return [{"title": p.title, "status": p.status, "created_at": _iso(p.created_at)} for p in rows]


async def _invitations(session: AsyncSession, person: PersonId) -> list[dict[str, Any]]:
    rows = (
        await session.execute(
            select(models.Poll.title, models.PollInvitee.required)
            .join(models.PollInvitee, models.PollInvitee.poll_ref == models.Poll.ref)
            .where(models.PollInvitee.person_id == person)
        )
    ).all()
    return [{"poll": title, "required": bool(required)} for title, required in rows]


async def _votes(session: AsyncSession, person: PersonId) -> list[dict[str, Any]]:
    rows = (
        await session.execute(
            select(models.Poll.title, models.PollOption, models.PollVote)
            .join(models.PollOption, models.PollOption.id == models.PollVote.option_id)
            .join(models.Poll, models.Poll.ref == models.PollVote.poll_ref)
            .where(models.PollVote.person_id == person)
            .order_by(models.PollOption.start)
        )
    ).all()
    return [
        {
            "poll": title,
            "option_start": _iso(option.start),
            "option_end": _iso(option.end),
            "choice": vote.choice,
            "at": _iso(vote.updated_at),
        }
        for title, option, vote in rows
    ]


async def _audit_by(session: AsyncSession, person: PersonId) -> list[dict[str, Any]]:
    rows = await session.scalars(
        select(models.AuditEntry)
        .where(models.AuditEntry.actor_id == person)
        .order_by(models.AuditEntry.at)
    )
    return [{"at": _iso(r.at), "change": r.subject, "from": r.old, "to": r.new} for r in rows]


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def document(data: Mapping[str, Any]) -> str:
    """The export as the JSON document ``pairtime people export`` writes."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"

"""Everything storage offers, built from a database URL and the encryption keys."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from storage.crypto import Vault
from storage.database import Database
from storage.repositories.activity import SqlActivity
from storage.repositories.audit import SqlAudit
from storage.repositories.connections import SqlConnections, SqlConnectStates
from storage.repositories.console import SqlConsole
from storage.repositories.events import SqlConversationReferences, SqlEventLog
from storage.repositories.jobs import SqlJobs
from storage.repositories.meetings import SqlMeetings, SqlOffers
from storage.repositories.organisations import SqlOrganisations
from storage.repositories.pairings import SqlGroups, SqlPairings
from storage.repositories.people import SqlPeople
from storage.repositories.personal_data import SqlPersonalData
from storage.repositories.polls import SqlPolls
from storage.repositories.program_events import SqlProgramEvents
from storage.repositories.programs import SqlPrograms
from storage.repositories.retention import SqlRetention
from storage.repositories.roster import SqlRoster
from storage.repositories.tracks import SqlTracks


@dataclass(frozen=True)
class Storage:
    database: Database
    vault: Vault
    programs: SqlPrograms
    retention: SqlRetention
    people: SqlPeople
    personal_data: SqlPersonalData
    pairings: SqlPairings
    groups: SqlGroups
    offers: SqlOffers
    meetings: SqlMeetings
    connections: SqlConnections
    connect_states: SqlConnectStates
    events: SqlEventLog
    conversations: SqlConversationReferences
    polls: SqlPolls
    jobs: SqlJobs
    organisations: SqlOrganisations
    tracks: SqlTracks
    roster: SqlRoster
    audit: SqlAudit
    program_events: SqlProgramEvents
    console: SqlConsole
    activity: SqlActivity

    @classmethod
    def open(cls, url: str, keys: Sequence[str], *, pool_size: int = 10) -> Storage:
        return cls.over(Database(url, pool_size=pool_size), Vault(keys))

    @classmethod
    def over(cls, database: Database, vault: Vault) -> Storage:
        jobs = SqlJobs(database)
        return cls(
            database=database,
            vault=vault,
            programs=SqlPrograms(database),
            retention=SqlRetention(database),
            people=SqlPeople(database),
            personal_data=SqlPersonalData(database, vault),
            pairings=SqlPairings(database),
            groups=SqlGroups(database),
            offers=SqlOffers(database),
            meetings=SqlMeetings(database, jobs),
            connections=SqlConnections(database, vault),
            connect_states=SqlConnectStates(database, vault),
            events=SqlEventLog(database),
            conversations=SqlConversationReferences(database),
            polls=SqlPolls(database, jobs),
            jobs=jobs,
            organisations=SqlOrganisations(database, vault, jobs),
            tracks=SqlTracks(database),
            roster=SqlRoster(database),
            audit=SqlAudit(database),
            program_events=SqlProgramEvents(database),
            console=SqlConsole(database),
            activity=SqlActivity(database),
        )

    async def close(self) -> None:
        await self.database.close()

"""A poll's close and its booking are one transaction: a booking that cannot be written
leaves the poll open (the organiser is told something went wrong), and the close clicked
again books it, once, in Slack and in Teams. The fault is the database's own (a trigger
refusing new meetings, ``tests.support.meetings_refused``), not a replaced function. On
PostgreSQL, two apps (as two ``pairtime serve`` processes) given the same close at once
book it once."""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from core.polls import PollStatus
from tests.adapters.slack.harness import (
    CHANNEL,
    MENTEE,
    MENTOR,
    STRANGER,
    SlackWorld,
    buttons,
    slack_world,
    texts,
)
from tests.adapters.teams.harness import teams_app
from tests.fakes import slack_requests as sr
from tests.fakes import teams_activities as ta
from tests.fakes.slack import FakeSlack
from tests.integration import test_teams_polls as teams_polls
from tests.integration.test_slack_polls import POLL, button, press
from tests.integration.test_two_apps_postgres import settle, two_apps
from tests.support import kill_jobs, meetings_refused

FAILURE = "went wrong on my side"
BOOKED = "is closed: the meeting is booked"
POSTGRES_URL = os.environ.get("PAIRTIME_TEST_POSTGRES_URL")


async def slack_poll(world: SlackWorld) -> Any:
    """Alex's poll of Maria and Sam, posted in the channel, Maria and Sam voting yes to its
    first time; the channel's message."""
    await world.open_to_all()
    await world.say(sr.slash_command(world.secret, text=POLL, response_url=world.response_url()))
    await press(world, button(world.slack.responses[-1].body["blocks"], "pt:poll:post"))
    (posted,) = world.slack.messages_in(CHANNEL)
    for voter in (MENTEE, STRANGER):
        await press(world, button(posted.blocks, "pt:poll:yes:1"), user=voter)
    return posted


async def poll_row(world: SlackWorld) -> tuple[str, str | None]:
    async with world.running.storage.database.reading() as db:
        row = (await db.execute(text("SELECT status, meeting_ref FROM polls"))).one()
    return row.status, row.meeting_ref


async def meeting_count(world: SlackWorld) -> int:
    async with world.running.storage.database.reading() as db:
        return int((await db.execute(text("SELECT count(*) FROM meetings"))).scalar_one())


def told_booked(world: SlackWorld, user: str) -> list[Any]:
    return [m for m in world.dm(user) if BOOKED in m.text]


async def test_a_slack_close_whose_booking_failed_books_when_clicked_again(tmp_path: Path):
    async with slack_world(tmp_path) as world:
        posted = await slack_poll(world)
        close = button(posted.blocks, "pt:poll:close")

        async with meetings_refused(world.running.storage.database):
            await press(world, close)
        assert FAILURE in (world.slack.responses[-1].text or "")
        assert await poll_row(world) == (PollStatus.OPEN.value, None)  # not closed, then
        assert await meeting_count(world) == 0

        await press(world, close)  # the card still offers it: the organiser tries again
        await world.drain()
        assert (world.slack.responses[-1].text or "") == "The most popular time was booked."
        status, meeting = await poll_row(world)
        assert (status, meeting is not None, await meeting_count(world)) == ("closed", True, 1)
        for user in (MENTOR, MENTEE, STRANGER):
            assert len(told_booked(world, user)) == 1
        (card,) = world.slack.messages_in(CHANNEL)
        assert "The most popular time was booked." in texts(card.blocks)


async def test_a_slack_close_whose_process_died_after_it_shows_on_the_card_when_run_again(
    tmp_path: Path,
):
    """The close commits with its booking; the process dies at its first call to Slack
    after that (the fake's fault hook kills its running jobs), before the card was updated
    or anyone told. The click's row, run again once the leases run out, finds the poll
    closed: it books nothing more, and draws the card as the close would have; the private
    messages stored with the booking go out once each."""
    async with slack_world(tmp_path) as world:
        posted = await slack_poll(world)
        await world.drain()
        edits = len(world.slack.messages_in(CHANNEL)[0].edits)
        killed: list[int] = []
        world.slack.crash_at(
            "response", "chat.update", "conversations.open", "chat.postMessage",
            crash=lambda: killed.append(kill_jobs()),
        )  # fmt: skip
        close = button(posted.blocks, "pt:poll:close")
        await world.post(
            sr.block_actions(
                world.secret, close["action_id"], value=close["value"], user_id=MENTOR,
                channel_id=CHANNEL, response_url=world.response_url(),
            )
        )  # fmt: skip
        await world.settle()
        assert killed
        assert killed[0] >= 1
        status, meeting = await poll_row(world)
        assert (status, meeting is not None) == ("closed", True)  # after the close's commit
        (card,) = world.slack.messages_in(CHANNEL)
        assert len(card.edits) == edits  # the card still shows the poll open
        assert told_booked(world, MENTEE) == []

        world.slack.revive()  # another process, or this one restarted
        assert world.clock is not None
        world.clock.advance(timedelta(minutes=2))  # past the leases, and any first retry
        await world.drain()

        assert await meeting_count(world) == 1
        (card,) = world.slack.messages_in(CHANNEL)
        assert "The most popular time was booked." in texts(card.blocks)
        assert not [b for b in buttons(card.blocks) if b["action_id"] == "pt:poll:close"]
        for user in (MENTOR, MENTEE, STRANGER):
            assert len(told_booked(world, user)) == 1


async def test_a_teams_close_whose_booking_failed_books_when_clicked_again(tmp_path: Path):
    async with teams_app(tmp_path, members=teams_polls.CIRCLE) as teams:
        circle = await teams_polls.circle_of_four(teams)
        draft = await circle.draft()
        poll_id = await circle.post(draft.adaptive_cards[0], draft)
        for voter in (ta.MARIA, teams_polls.BEN):
            await circle.vote(poll_id, voter, 0)
        await teams.settle()
        close = teams_polls.button(circle.poll_card(poll_id), "Close and book")["data"]

        async with meetings_refused(circle.storage.database):
            failed = await circle.click(close, on=poll_id, personal=False)
        assert FAILURE in failed["value"]
        (poll,) = await teams_polls.polls_in(teams)
        assert (poll.status, poll.meeting) == (PollStatus.OPEN, None)

        closed = await circle.click(close, on=poll_id, personal=False)
        assert closed["value"] == "The most popular time was booked."
        await teams.settle()
        (poll,) = await teams_polls.polls_in(teams)
        assert poll.status is PollStatus.CLOSED
        assert poll.meeting is not None
        meeting = await circle.storage.meetings.get(poll.meeting)
        assert meeting is not None
        names = {person.id: name for name, person in circle.people.items()}
        assert {names[p] for p in meeting.participants} == {"Alex Kim", "Maria Lopez", "Ben Okafor"}
        for user in (ta.ALEX, ta.MARIA, teams_polls.BEN):
            chat = ta.personal_chat_id(user)
            assert len(teams_polls.booked(teams.connector, chat)) == 1
        assert "This poll is closed." in teams_polls.texts(circle.poll_card(poll_id))


@pytest.mark.postgres
@pytest.mark.skipif(
    not POSTGRES_URL, reason="PAIRTIME_TEST_POSTGRES_URL is not set (.ci/run sets it)"
)
async def test_on_postgresql_a_failed_close_then_the_same_close_on_two_apps_at_once_books_once(
    tmp_path: Path,
):
    slack = FakeSlack()
    async with two_apps(tmp_path, slack) as (one, two):
        posted = await slack_poll(one)
        await settle(one, two)
        close = button(posted.blocks, "pt:poll:close")
        async with meetings_refused(one.running.storage.database):
            await press(one, close)
        assert await poll_row(one) == (PollStatus.OPEN.value, None)

        clicks = [
            (world, sr.block_actions(
                world.secret, close["action_id"], value=close["value"], user_id=MENTOR,
                channel_id=CHANNEL, response_url=world.response_url(),
            ))
            for world in (one, two, one, two)
        ]  # fmt: skip
        answers = await asyncio.gather(*(world.post(each) for world, each in clicks))
        assert {a.status for a in answers} == {200}
        await settle(one, two)

        status, meeting = await poll_row(one)
        assert (status, meeting is not None, await meeting_count(one)) == ("closed", True, 1)
        said = [r.text or "" for r in slack.responses[-4:]]
        assert sorted(said).count("The most popular time was booked.") == 1
        assert sorted(said).count("This poll is already closed.") == 3
        for user in (MENTOR, MENTEE, STRANGER):
            assert len(told_booked(one, user)) == 1

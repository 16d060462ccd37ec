"""1,000 vote clicks on one Slack poll, sent 100 at a time through the real app: overload
slows the answers down, it never changes the tally, and the card never goes backwards."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import text

from tests.adapters.slack.harness import NOW, SlackWorld, slack_world
from tests.fakes import slack_requests as sr
from tests.fakes.slack import FakeSlack, SlackMessage
from tests.integration import slack_votes as sv

VOTERS = 40
CLICKS = int(os.environ.get("PAIRTIME_TEST_CLICKS", "1000"))


async def post_poll(world: SlackWorld, people: list[str]) -> SlackMessage:
    """The organiser asks for a poll in the channel and posts the draft."""
    await world.say(
        sr.slash_command(
            world.secret,
            text=sv.poll_text(people),
            user_id=sv.ORGANISER,
            channel_id=sv.CHANNEL,
            response_url=world.response_url(),
        )
    )
    draft = world.slack.responses[-1].body["blocks"]
    post = next(
        e for b in draft for e in b.get("elements", []) if e.get("action_id") == "pt:poll:post"
    )
    await world.say(
        sr.block_actions(
            world.secret,
            post["action_id"],
            value=post["value"],
            user_id=sv.ORGANISER,
            channel_id=sv.CHANNEL,
            response_url=world.response_url(),
        )
    )
    (posted,) = world.slack.messages_in(sv.CHANNEL)
    return posted


async def test_a_thousand_votes_at_once_add_up_exactly_and_the_card_never_goes_back(
    tmp_path: Path,
):
    slack = FakeSlack()
    people = sv.add_people(slack, VOTERS)
    async with slack_world(tmp_path, fake=slack) as world:
        await world.open_to_all()  # the voters are nobody's partners
        card = await post_poll(world, people)
        options = sv.options_of(card.blocks)
        assert len(options) >= 3
        clicks = sv.plan(people, options, CLICKS, NOW, rate=200)
        url = world.response_url()

        async def post(_: int, request: sr.SlackRequest) -> int:
            return (await world.post(request)).status

        sent = await sv.burst(
            clicks, lambda c: sv.click_request(world.secret, card, c, url), post, in_flight=100
        )
        await world.settle()

        assert all(s.acked for s in sent)
        expected = sv.standing(clicks)
        assert await sv.stored_votes(world.running.storage.database) == expected
        final = world.slack.message(sv.CHANNEL, card.ts)
        assert final is not None
        assert sv.card_tallies(final.blocks) == sv.tallies(expected, options)
        versions = sv.card_versions(final)
        assert versions, "the card was never updated"
        assert sv.backwards(versions) == 0
        assert versions == sorted(versions)
        async with world.running.storage.database.reading() as session:
            version = await session.scalar(text("SELECT version FROM polls"))
        assert versions[-1] == version  # the card shows the last state

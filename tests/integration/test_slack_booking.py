"""Clicking a time in Slack: proposed once, the picker updated in place, both people told by
DM with the invitation attached; accepting, declining (the time is free again), moving,
cancelling (asked first), more times, someone else's offer, rate limits."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bot.server import SERVICES_KEY
from core.actions import PickSlot
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
from tests.fakes import slack_requests as sr

FIND = f"find a time with <@{MENTEE}|maria> next week"


async def ask_for_times(world: SlackWorld) -> list[dict[str, Any]]:
    """The mentor's picker (ephemeral, in the channel), as Slack received it at the
    command's own response_url."""
    url = world.response_url()
    await world.say(sr.slash_command(world.secret, text=FIND, response_url=url))
    return world.slack.answered(url)


def button(blocks: list[dict[str, Any]], action_id: str) -> dict[str, Any]:
    return next(b for b in buttons(blocks) if b["action_id"] == action_id)


async def click(
    world: SlackWorld, element: dict[str, Any], *, user: str = MENTOR, channel: str = CHANNEL
) -> str:
    """Click ``element`` as ``user``; returns the response_url the click carried."""
    url = world.response_url()
    await world.say(
        sr.block_actions(
            world.secret,
            element["action_id"],
            value=element["value"],
            user_id=user,
            channel_id=channel,
            response_url=url,
        )
    )
    return url


async def meetings(world: SlackWorld) -> int:
    async with world.running.storage.database.transaction() as db:
        count: int = (await db.execute(text("SELECT count(*) FROM meetings"))).scalar_one()
        return count


def in_dm(world: SlackWorld, user: str, label: str, nth: int = -1) -> dict[str, Any]:
    """The button called ``label`` on ``user``'s ``nth`` direct message."""
    message = world.dm(user)[nth]
    return next(b for b in buttons(message.blocks) if b["text"]["text"] == label)


async def click_in_dm(world: SlackWorld, user: str, label: str, nth: int = -1) -> str:
    return await click(
        world, in_dm(world, user, label, nth), user=user, channel=world.slack.dm_channel(user)
    )


def labels_of(blocks: list[dict[str, Any]]) -> list[str]:
    return [b["text"]["text"] for b in buttons(blocks)]


def labels(message: Any) -> list[str]:
    return [b["text"]["text"] for b in buttons(message.blocks)]


def in_reply(world: SlackWorld, url: str, label: str) -> dict[str, Any]:
    """The button called ``label`` in the answer to the click that carried ``url``."""
    return next(b for b in buttons(world.slack.answered(url)) if b["text"]["text"] == label)


def picked(world: SlackWorld, element: dict[str, Any]) -> datetime:
    """The time a picker's button books (read from its signed value, as Pairtime does)."""
    action = world.running.app[SERVICES_KEY].scheduler.ports.actions.open(element["value"])
    assert isinstance(action, PickSlot)
    return action.start


async def test_a_click_proposes_once_updates_the_picker_and_asks_the_partner(tmp_path: Path):
    async with slack_world(tmp_path) as world:
        picker = await ask_for_times(world)
        chosen = button(picker, "pt:pick:1")

        await click(world, chosen)

        assert await meetings(world) == 1
        update = world.slack.responses[-1]
        assert update.replace_original
        assert update.text is not None
        assert update.text.startswith(
            "Proposed: Mentoring: Alex Kim and Maria Lopez, waiting for Maria Lopez"
        )
        assert buttons(update.body["blocks"]) == []  # the buttons are gone
        (mine,) = world.dm(MENTOR)
        assert mine.text.startswith("You proposed this time to Maria Lopez.")
        assert labels(mine) == ["Move", "Cancel meeting"]
        (theirs,) = world.dm(MENTEE)
        assert theirs.text.startswith("Alex Kim proposes a time for Mentoring: Alex Kim and")
        assert labels(theirs) == ["Accept", "Decline", "Other times"]
        uploads = list(world.slack.uploads.values())
        assert sorted(u.channels[0] for u in uploads) == sorted(
            world.slack.dm_channel(u) for u in (MENTOR, MENTEE)
        )
        for upload in uploads:
            assert upload.completed
            assert upload.filename.endswith(".ics")
            assert upload.content is not None
            assert upload.content.startswith(b"BEGIN:VCALENDAR")
            assert b"METHOD:REQUEST" in upload.content
            assert b"STATUS:TENTATIVE" in upload.content


async def test_the_same_click_again_books_nothing_more(tmp_path: Path):
    async with slack_world(tmp_path) as world:
        chosen = button(await ask_for_times(world), "pt:pick:2")
        await click(world, chosen)
        posted = world.slack.count("chat.postMessage")

        await click(world, chosen)
        await click(world, button(await ask_for_times(world), "pt:pick:0"))

        assert await meetings(world) == 2  # the second picker is a new offer
        assert world.slack.responses[-3].text == world.slack.responses[1].text
        assert world.slack.count("chat.postMessage") == posted + 2  # only the new booking's


async def test_an_expired_response_url_still_books_and_answers_by_dm(tmp_path: Path):
    async with slack_world(tmp_path) as world:
        chosen = button(await ask_for_times(world), "pt:pick:0")

        # Slack's response_urls expire after 30 minutes; this one answers 404.
        await world.say(
            sr.block_actions(
                world.secret,
                chosen["action_id"],
                value=chosen["value"],
                response_url=f"{world.slack_base}/expired/1",
            )
        )

        assert await meetings(world) == 1
        # The answer, privately, and the confirmation, from the outbox: either may come first.
        mine = sorted(m.text for m in world.dm(MENTOR))
        assert len(mine) == 2
        assert mine[0].startswith("Proposed: Mentoring: Alex Kim and Maria Lopez")
        assert mine[1].startswith("You proposed this time to Maria Lopez")
        assert len(world.dm(MENTEE)) == 1


async def test_the_partner_accepts_in_the_dm_and_the_booker_is_told(tmp_path: Path):
    async with slack_world(tmp_path) as world:
        await click(world, button(await ask_for_times(world), "pt:pick:0"))

        await click_in_dm(world, MENTEE, "Accept")

        update = world.slack.responses[-1]
        assert update.replace_original  # the proposal in Maria's DM becomes the meeting
        assert (update.text or "").startswith("You accepted Mentoring: Alex Kim and Maria")
        assert [b["text"]["text"] for b in buttons(update.body["blocks"])] == [
            "Move",
            "Cancel meeting",
        ]
        told = world.dm(MENTOR)[-1]
        assert told.text.startswith("Maria Lopez accepted Mentoring: Alex Kim and Maria Lopez.")
        async with world.running.storage.database.transaction() as db:
            row = (await db.execute(text("SELECT status, sequence FROM meetings"))).one()
        assert tuple(row) == ("confirmed", 1)

        # Accept again (a double click): nothing new is sent, the meeting is as it is.
        posted = world.slack.count("chat.postMessage")
        await click_in_dm(world, MENTEE, "Accept", nth=0)
        assert world.slack.count("chat.postMessage") == posted
        assert (world.slack.responses[-1].text or "").startswith("Confirmed.")


async def test_a_booked_time_is_not_offered_again_until_declined(tmp_path: Path):
    async with slack_world(tmp_path) as world:
        await world.open_to_all()  # Sam, a stranger, looks for times with Maria
        picker = await ask_for_times(world)
        chosen = button(picker, "pt:pick:0")
        await click(world, chosen)

        def offered_starts(blocks: list[dict[str, Any]]) -> set[datetime]:
            return {
                picked(world, b) for b in buttons(blocks) if b["action_id"].startswith("pt:pick:")
            }

        first = offered_starts(picker)
        with_sam = f"find a time with <@{STRANGER}|sam> next week"
        await world.say(
            sr.slash_command(world.secret, text=with_sam, response_url=world.response_url())
        )
        again = offered_starts(world.slack.responses[-1].body["blocks"])
        assert picked(world, chosen) in first
        assert picked(world, chosen) not in again  # Alex is busy then (a pending proposal)

        await click_in_dm(world, MENTEE, "Decline")
        told = world.dm(MENTOR)[-1]
        assert told.text.startswith("Maria Lopez declined Mentoring: Alex Kim and Maria Lopez;")
        await world.say(
            sr.slash_command(world.secret, text=with_sam, response_url=world.response_url())
        )
        freed = offered_starts(world.slack.responses[-1].body["blocks"])
        assert picked(world, chosen) in freed
        cancellation = list(world.slack.uploads.values())[-1]
        assert cancellation.content is not None
        assert b"METHOD:CANCEL" in cancellation.content


async def test_either_person_moves_the_meeting_and_the_other_is_asked_again(tmp_path: Path):
    async with slack_world(tmp_path) as world:
        await click(world, button(await ask_for_times(world), "pt:pick:0"))
        accepted = await click_in_dm(world, MENTEE, "Accept")

        # On her DM, which the accept turned into the confirmed meeting:
        move = in_reply(world, accepted, "Move")
        await click(world, move, user=MENTEE, channel=world.slack.dm_channel(MENTEE))
        picker = world.slack.responses[-1].body["blocks"]
        assert not world.slack.responses[-1].replace_original  # the confirmation stays
        await click(
            world,
            button(picker, "pt:pick:3"),
            user=MENTEE,
            channel=world.slack.dm_channel(MENTEE),
        )

        update = world.slack.responses[-1]
        assert (update.text or "").startswith("New time proposed for Mentoring: Alex Kim and")
        asked = world.dm(MENTOR)[-1]
        assert asked.text.startswith("Maria Lopez proposes a new time for Mentoring")
        assert labels(asked) == ["Accept", "Decline", "Other times"]
        async with world.running.storage.database.transaction() as db:
            rows = (await db.execute(text("SELECT ref, status, sequence FROM meetings"))).all()
        assert len(rows) == 1  # the same meeting, moved
        assert tuple(rows[0])[1:] == ("proposed", 2)


async def test_cancelling_from_the_confirmation_asks_first_then_tells_the_partner(
    tmp_path: Path,
):
    async with slack_world(tmp_path) as world:
        await click(world, button(await ask_for_times(world), "pt:pick:0"))
        accepted = await click_in_dm(world, MENTEE, "Accept")

        cancel = in_reply(world, accepted, "Cancel meeting")
        await click(world, cancel, user=MENTEE, channel=world.slack.dm_channel(MENTEE))
        question = world.slack.responses[-1]
        assert (question.text or "").startswith("Cancel Mentoring: Alex Kim and Maria Lopez on ")
        async with world.running.storage.database.transaction() as db:
            status = (await db.execute(text("SELECT status FROM meetings"))).scalar_one()
        assert status == "confirmed"  # nothing yet
        yes = next(
            b for b in buttons(question.body["blocks"]) if b["text"]["text"] == "Cancel meeting"
        )
        await click(world, yes, user=MENTEE, channel=world.slack.dm_channel(MENTEE))

        update = world.slack.responses[-1]
        assert update.replace_original
        assert (update.text or "").startswith("Cancelled: Mentoring: Alex Kim and Maria Lopez")
        assert buttons(update.body["blocks"]) == []
        told = world.dm(MENTOR)[-1]
        assert told.text.startswith("Maria Lopez cancelled Mentoring: Alex Kim and Maria Lopez.")
        cancellation = list(world.slack.uploads.values())[-1]
        assert cancellation.channels == [world.slack.dm_channel(MENTOR)]
        assert cancellation.content is not None
        assert b"METHOD:CANCEL" in cancellation.content
        async with world.running.storage.database.transaction() as db:
            status = (await db.execute(text("SELECT status FROM meetings"))).scalar_one()
        assert status == "cancelled"

        # Alex's first DM still has Move and Cancel meeting: they answer with the meeting now.
        for label in ("Move", "Cancel meeting"):
            await click_in_dm(world, MENTOR, label, nth=0)
            now = world.slack.responses[-1]
            assert now.replace_original
            assert "cancelled" in (now.text or "").lower()
            assert labels_of(now.body["blocks"]) == []
        async with world.running.storage.database.transaction() as db:
            row = (await db.execute(text("SELECT status, sequence FROM meetings"))).one()
        assert tuple(row) == ("cancelled", 2)  # nothing changed


async def test_a_click_on_someone_elses_offer_changes_nothing(tmp_path: Path):
    async with slack_world(tmp_path) as world:
        chosen = button(await ask_for_times(world), "pt:pick:0")

        await click(world, chosen, user=STRANGER)

        assert await meetings(world) == 0
        answer = world.slack.responses[-1]
        assert answer.text == "Only the people in this meeting can choose its time."
        assert answer.response_type == "ephemeral"
        assert not answer.replace_original
        assert world.slack.messages == []
        assert world.slack.uploads == {}


async def test_a_forged_button_value_is_refused(tmp_path: Path):
    async with slack_world(tmp_path) as world:
        chosen = button(await ask_for_times(world), "pt:pick:0")
        body, signature = chosen["value"].split(".")

        await click(world, chosen | {"value": f"{body}.{signature[::-1]}"})

        assert await meetings(world) == 0
        assert "That button has expired or isn't valid" in (world.slack.responses[-1].text or "")


async def test_more_times_replaces_the_picker_with_the_next_ones(tmp_path: Path):
    async with slack_world(tmp_path) as world:
        picker = await ask_for_times(world)
        first = {b["value"] for b in buttons(picker) if b["action_id"].startswith("pt:pick:")}

        await click(world, button(picker, "pt:more"))

        update = world.slack.responses[-1]
        assert update.replace_original
        shown = {
            b["value"]
            for b in buttons(update.body["blocks"])
            if b["action_id"].startswith("pt:pick:")
        }
        assert len(shown) == 8
        assert shown.isdisjoint(first)


async def test_a_rate_limited_post_is_sent_again_after_retry_after(tmp_path: Path):
    async with slack_world(tmp_path) as world:
        picker = await ask_for_times(world)
        world.slack.rate_limit("chat.postMessage", times=1, retry_after=1)

        await click(world, button(picker, "pt:pick:0"))

        posts = world.slack.calls_to("chat.postMessage")
        assert [call.status for call in posts].count(429) == 1
        assert len(posts) == 3  # two confirmations, one of them sent twice
        refused = next(call for call in posts if call.status == 429)
        retried = next(
            call
            for call in posts
            if call.at > refused.at and call.args["channel"] == refused.args["channel"]
        )
        assert retried.at - refused.at >= 1.0
        assert len(world.dm(MENTOR)) == len(world.dm(MENTEE)) == 1


async def test_link_buttons_only_acknowledge(tmp_path: Path):
    async with slack_world(tmp_path) as world:
        # Asked in the DM, the picker also offers the (personal) connect links.
        await world.say(sr.event_callback(world.secret, sr.message_im_event(FIND)))
        (picker,) = world.dm(MENTOR)
        link = next(b for b in buttons(picker.blocks) if "url" in b)
        assert link["text"]["text"] == "Connect iCloud"
        calls = len(world.slack.calls)

        answer = await world.say(
            sr.block_actions(
                world.secret, link["action_id"], channel_id=world.slack.dm_channel(MENTOR)
            )
        )

        assert answer.status == 200
        assert len(world.slack.calls) == calls


async def test_a_picker_in_a_channel_carries_no_personal_links(tmp_path: Path):
    async with slack_world(tmp_path) as world:
        picker = await ask_for_times(world)

        assert [b for b in buttons(picker) if "url" in b] == []
        assert "connect my calendar" in texts(picker)

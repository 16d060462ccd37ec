"""Invitations through the wire: Slack clicks on the running app, a real SMTP server.

A mentor books in Slack, the mentee accepts, moves, the mentor cancels by text: each
change reaches aiosmtpd (STARTTLS and AUTH, as a mail provider's port 587) as the iTIP
message a mail client needs, read back with ``email`` and ``icalendar`` and checked by
the offline iMIP validator. Twenty clicks of both people at once make one set of
invitations; the outbox keeps them across a restart while the server is down; after the
last try the organiser is told in chat.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar

from adapters.mail.config import MailSettings
from adapters.slack import translate
from bot.settings import load_settings
from core.people import ProgramId
from core.program import LocationMode, LocationRule
from storage.crypto import generate_key
from tests.adapters.slack.harness import (
    CHANNEL,
    MENTEE,
    MENTOR,
    NOW,
    STRANGER,
    buttons,
    people,
    slack_world,
)
from tests.fakes import slack_requests as sr
from tests.fakes.server import TestCertificate
from tests.fakes.slack import FakeSlack
from tests.integration.test_slack_booking import (
    ask_for_times,
    button,
    click,
    click_in_dm,
    in_reply,
    meetings,
    picked,
)
from tests.mail_server import MailServer
from tests.memory import FixedClock
from tests.support import validate, validators

ALEX, MARIA, SAM = "alex@example.org", "maria@example.org", "sam@example.org"
PROGRAM = ProgramId("slack:T0PAIRTIME")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> TestCertificate:
    return TestCertificate.create(tmp_path_factory.mktemp("smtp-tls"))


def slack_with_emails() -> FakeSlack:
    """The harness's people, Maria with an email address too (Alex has one already)."""
    slack = FakeSlack()
    people(slack)
    slack.add_user(MENTEE, name="maria", real_name="Maria Lopez", tz="Europe/Madrid", email=MARIA)
    return slack


def mail_settings(server: MailServer, certificate: TestCertificate) -> MailSettings:
    """As an operator sets it: PAIRTIME_SMTP_URL, PAIRTIME_MAIL_FROM, PAIRTIME_CA_BUNDLE."""
    settings = load_settings(
        {
            "PAIRTIME_SMTP_URL": server.url,
            "PAIRTIME_MAIL_FROM": "Mentoring Program <mentoring@example.org>",
            "PAIRTIME_CA_BUNDLE": str(certificate.ca_path),
        },
        dotenv_path=None,
    )
    assert settings.mail is not None
    return settings.mail


def itip(message: EmailMessage) -> tuple[str, Any]:
    """The METHOD and the one VEVENT of the message's text/calendar part."""
    part = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
    calendar = Calendar.from_ical(part.get_content())
    assert part.get_param("method") == str(calendar["method"])
    (event,) = calendar.walk("VEVENT")
    return str(calendar["method"]), event


def summary(server: MailServer) -> list[tuple[tuple[str, ...], str, int, str]]:
    """(recipients, METHOD, SEQUENCE, STATUS) of each message, as received."""
    found = []
    for received in server.received:
        method, event = itip(received.message())
        found.append((received.recipients, method, int(event["sequence"]), str(event["status"])))
    return found


async def test_book_accept_move_and_cancel_reach_the_mail_server_as_itip(
    tmp_path: Path, certificate: TestCertificate
):
    server = await MailServer("starttls", certificate=certificate).start()
    try:
        async with slack_world(
            tmp_path, fake=slack_with_emails(), mail=mail_settings(server, certificate)
        ) as world:
            chosen = button(await ask_for_times(world), "pt:pick:0")
            await click(world, chosen)
            await world.drain()
            accepted = await click_in_dm(world, MENTEE, "Accept")
            await world.drain()
            move = in_reply(world, accepted, "Move")
            await click(world, move, user=MENTEE, channel=world.slack.dm_channel(MENTEE))
            later = button(world.slack.responses[-1].body["blocks"], "pt:pick:3")
            await click(world, later, user=MENTEE, channel=world.slack.dm_channel(MENTEE))
            await world.drain()
            await click_in_dm(world, MENTOR, "Accept")
            await world.drain()
            await world.say(
                sr.slash_command(
                    world.secret, text=f"cancel my meeting with <@{MENTEE}|maria>",
                    response_url=world.response_url(),
                )
            )  # fmt: skip
            asked = world.slack.responses[-1]
            assert (asked.text or "").startswith("Cancel Mentoring: Alex Kim and Maria Lopez on")
            sure = next(
                b for b in buttons(asked.body["blocks"]) if b["text"]["text"] == "Cancel meeting"
            )
            await click(world, sure)
            await world.drain()
            await world.drain()  # nothing is sent twice
    finally:
        await server.stop()

    # Each change emails both (in either order): its METHOD, SEQUENCE and STATUS.
    sent = sorted(summary(server), key=lambda each: (each[2], each[0]))
    assert [(r, m, s, status) for r, m, s, status in sent] == [
        (to, method, sequence, status)
        for method, sequence, status in (
            ("REQUEST", 0, "TENTATIVE"),  # proposed to Maria
            ("REQUEST", 1, "CONFIRMED"),  # she accepted
            ("REQUEST", 2, "TENTATIVE"),  # she moved it: proposed to Alex
            ("REQUEST", 3, "CONFIRMED"),  # he accepted
            ("CANCEL", 4, "CANCELLED"),  # he cancelled
        )
        for to in ((ALEX,), (MARIA,))
    ]
    assert server.logins == [server.user] * 10
    events = [itip(m)[1] for m in server.messages()]
    assert len({str(e["uid"]) for e in events}) == 1
    starts = {int(e["sequence"]): e.decoded("dtstart") for e in events}
    first, moved = starts[0], starts[2]
    assert first == picked(world, chosen)
    assert moved == picked(world, later) != first
    for message in server.messages():
        assert message["From"].addresses[0].addr_spec == "mentoring@example.org"
        assert {str(a) for a in itip(message)[1]["attendee"]} == {
            f"mailto:{ALEX}",
            f"mailto:{MARIA}",
        }

    if validators() is None:
        return  # the validator's part: skipped where ../shared is absent (a plain clone)
    files = []
    for index, received in enumerate(server.received):
        path = tmp_path / f"message-{index}.eml"
        path.write_bytes(received.content)
        files.append(path)
    result = validate("imip", *files)
    assert result.returncode == 0, result.stdout + result.stderr


async def test_twenty_clicks_of_both_people_at_once_make_one_meeting_and_one_set_of_invitations(
    tmp_path: Path, certificate: TestCertificate
):
    """Each asked for times with the other; both click the same time, ten times each."""
    server = await MailServer("starttls", certificate=certificate).start()
    try:
        async with slack_world(
            tmp_path, fake=slack_with_emails(), mail=mail_settings(server, certificate)
        ) as world:
            his = button(await ask_for_times(world), "pt:pick:0")
            await world.say(
                sr.slash_command(
                    world.secret, text=f"find a time with <@{MENTOR}|alex> next week",
                    user_id=MENTEE, response_url=world.response_url(),
                )
            )  # fmt: skip
            theirs = world.slack.responses[-1].body["blocks"]
            hers = next(
                b
                for b in buttons(theirs)
                if b["action_id"].startswith("pt:pick:") and picked(world, b) == picked(world, his)
            )
            clicks = [
                sr.block_actions(
                    world.secret, element["action_id"], value=element["value"], user_id=user,
                    channel_id=CHANNEL, response_url=world.response_url(),
                )
                for _ in range(10)
                for element, user in ((his, MENTOR), (hers, MENTEE))
            ]  # fmt: skip
            answers = await asyncio.gather(*(world.post(each) for each in clicks))
            assert {a.status for a in answers} == {200}
            await world.settle()
            await world.drain()

            assert await meetings(world) == 1
            proposals = [
                m
                for user in (MENTOR, MENTEE)
                for m in world.dm(user)
                if "proposes a time" in m.text
            ]
            assert len(proposals) == 1  # one of them is asked, once
    finally:
        await server.stop()
    assert sorted(r for r, _, _, _ in summary(server)) == [(ALEX,), (MARIA,)]
    assert {(m, s) for _, m, s, _ in summary(server)} == {("REQUEST", 0)}


async def test_the_outbox_keeps_invitations_across_a_restart_while_the_server_is_down(
    tmp_path: Path, certificate: TestCertificate
):
    server = await MailServer("starttls", certificate=certificate).start()
    settings = mail_settings(server, certificate)
    await server.stop()  # down: connections refused
    keys, clock, slack = [generate_key()], FixedClock(NOW), slack_with_emails()
    try:
        async with slack_world(
            tmp_path, fake=slack, mail=settings, keys=keys, clock=clock
        ) as world:
            await click(world, button(await ask_for_times(world), "pt:pick:0"))
            await world.drain()  # the first try fails; the retry is due later
            assert world.dm(MENTOR)[-1].text.startswith("You proposed this time")

        await server.start()  # back, on the same port, while Pairtime is stopped
        clock.advance(timedelta(hours=1))
        async with slack_world(
            tmp_path, fake=slack, mail=settings, keys=keys, clock=clock
        ) as world:
            await world.drain()
            assert sorted(r for r, _, _, _ in summary(server)) == [(ALEX,), (MARIA,)]
            clock.advance(timedelta(days=2))
            await world.drain()
        async with slack_world(
            tmp_path, fake=slack, mail=settings, keys=keys, clock=clock
        ) as world:
            await world.drain()
    finally:
        await server.stop()
    assert len(server.received) == 2  # delivered once, whatever restarted or came due


async def test_after_the_last_try_the_organiser_is_told_in_chat(
    tmp_path: Path, certificate: TestCertificate
):
    server = await MailServer("starttls", certificate=certificate).start()
    settings = mail_settings(server, certificate)
    await server.stop()  # and never back
    clock = FixedClock(NOW)
    async with slack_world(tmp_path, fake=slack_with_emails(), mail=settings, clock=clock) as world:
        await click(world, button(await ask_for_times(world), "pt:pick:0"))
        await world.drain()
        told = "I couldn't email the invitation for Mentoring: Alex Kim and Maria Lopez to"
        tries = 1
        while not any(m.text.startswith(told) for m in world.dm(MENTOR)):
            assert tries < 12, "the organiser was never told"
            clock.advance(timedelta(hours=6, minutes=1))  # the longest wait between tries
            await world.drain()
            tries += 1
        assert tries == 12  # the last of twelve tries
        clock.advance(timedelta(days=1))
        await world.drain()

        notes = [m.text for m in world.dm(MENTOR) if m.text.startswith(told)]
        assert sorted(notes) == [f"{told} Alex Kim: {REST}", f"{told} Maria Lopez: {REST}"]
        assert not any(m.text.startswith(told) for m in world.dm(MENTEE))


REST = (
    "the mail server did not take it after several tries. They can add it to their calendar "
    "from the .ics file in their confirmation."
)


async def test_the_booker_adds_a_place_and_everyone_gets_it_in_chat_and_in_the_invitation(
    tmp_path: Path, certificate: TestCertificate
):
    """The ``location`` rule ``ask``: the booker's confirmation has a field; what they save
    is sent to everyone as an updated REQUEST (LOCATION, and the DESCRIPTION) and shown in
    chat."""
    link = "https://meet.example.org/abc-defg"
    server = await MailServer("starttls", certificate=certificate).start()
    try:
        async with slack_world(
            tmp_path, fake=slack_with_emails(), mail=mail_settings(server, certificate)
        ) as world:
            storage = world.running.storage
            await storage.programs.ensure(PROGRAM, "Pairtime Test")
            settings = await storage.programs.settings(PROGRAM)
            await storage.programs.save_settings(
                PROGRAM, replace(settings, location=LocationRule(LocationMode.ASK))
            )
            await click(world, button(await ask_for_times(world), "pt:pick:0"))
            await world.drain()
            mine = world.dm(MENTOR)[-1]
            (field,) = [b for b in mine.blocks if b["type"] == "input"]
            assert field["label"]["text"] == "Add a link or a room"
            assert not [b for b in world.dm(MENTEE)[-1].blocks if b["type"] == "input"]

            await world.say(
                sr.block_actions(
                    world.secret, translate.TEXT_ACTION, block_id=field["block_id"],
                    action_type="plain_text_input", value=link, user_id=MENTOR,
                    channel_id=world.slack.dm_channel(MENTOR), response_url=world.response_url(),
                )
            )  # fmt: skip
            await world.drain()
            saved = world.slack.responses[-1]
            assert (saved.text or "").startswith(f"Saved: {link}")
            told = world.dm(MENTEE)[-1]
            assert told.text.startswith("Alex Kim added where Mentoring: Alex Kim and Maria")
            assert link in json.dumps(told.blocks)
    finally:
        await server.stop()
    sent = sorted(summary(server), key=lambda each: (each[2], each[0]))
    assert [(r, m, s) for r, m, s, _ in sent] == [
        ((ALEX,), "REQUEST", 0),
        ((MARIA,), "REQUEST", 0),
        ((ALEX,), "REQUEST", 1),
        ((MARIA,), "REQUEST", 1),
    ]
    for message in server.messages():
        _, event = itip(message)
        if int(event["sequence"]) == 1:
            assert str(event["location"]) == link
            assert link in str(event["description"])
        else:
            assert "location" not in event


async def test_a_closed_poll_invites_its_voters_by_email_and_its_card_says_when_cancelled(
    tmp_path: Path, certificate: TestCertificate
):
    """Maria votes for the time that wins, Sam for another: the meeting is Alex's and
    Maria's, emailed to them alone; cancelled, it is emailed as a CANCEL and the poll's card
    in the channel says so."""
    slack = slack_with_emails()
    slack.add_user(STRANGER, name="sam", real_name="Sam Stone", tz="Europe/London", email=SAM)
    server = await MailServer("starttls", certificate=certificate).start()
    try:
        async with slack_world(
            tmp_path, fake=slack, mail=mail_settings(server, certificate)
        ) as world:
            await world.open_to_all()
            poll = f"poll <@{MENTEE}> and <@{STRANGER}> for an hour next week"
            await world.say(
                sr.slash_command(world.secret, text=poll, response_url=world.response_url())
            )
            draft = world.slack.responses[-1].body["blocks"]
            await click(world, button(draft, "pt:poll:post"))
            (card,) = world.slack.messages_in(CHANNEL)
            first, second, *_ = [
                b for b in buttons(card.blocks) if b["action_id"].startswith("pt:poll:yes:")
            ]
            await click(world, first, user=MENTEE)
            await click(world, first, user=MENTOR)
            await click(world, second, user=STRANGER)
            await click(world, button(card.blocks, "pt:poll:close"))
            await world.drain()
            closed = world.slack.messages_in(CHANNEL)[0]
            assert "The most popular time was booked." in json.dumps(closed.blocks)

            await world.say(
                sr.slash_command(
                    world.secret, text=f"cancel my meeting with <@{MENTEE}|maria>",
                    response_url=world.response_url(),
                )
            )  # fmt: skip
            asked = world.slack.responses[-1]
            sure = next(
                b for b in buttons(asked.body["blocks"]) if b["text"]["text"] == "Cancel meeting"
            )
            await click(world, sure)
            await world.drain()
            after = world.slack.messages_in(CHANNEL)[0]
            assert "The meeting this poll booked was cancelled." in json.dumps(after.blocks)
    finally:
        await server.stop()
    sent = sorted(summary(server), key=lambda each: (each[2], each[0]))
    assert [(r, m, s) for r, m, s, _ in sent] == [
        ((ALEX,), "REQUEST", 0),
        ((MARIA,), "REQUEST", 0),
        ((ALEX,), "CANCEL", 1),
        ((MARIA,), "CANCEL", 1),
    ]
    if validators() is None:
        return
    files = []
    for index, received in enumerate(server.received):
        path = tmp_path / f"poll-{index}.eml"
        path.write_bytes(received.content)
        files.append(path)
    result = validate("imip", *files)
    assert result.returncode == 0, result.stdout + result.stderr

"""Coalesced updates, and Slack profiles looked up once, against the fake Slack Web API."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path
from typing import cast

import aiohttp
import pytest
from aiohttp import web
from slack_sdk.web.async_client import AsyncWebClient

from adapters.chat import Inbox, perform
from adapters.slack.config import SlackSettings
from adapters.slack.messenger import (
    CARD_JOB,
    CardWrites,
    Coalescer,
    ReplyFailed,
    ResponseUrlReply,
    SlackMessenger,
    web_client,
)
from adapters.slack.people import SlackPeople
from adapters.slack.transport import SlackTransport
from bot.bootstrap import prepare_database
from core.jobs import Json
from core.people import ProgramId
from core.scheduling import Scheduler
from core.secret import Secret
from core.views import Answer, Notice, Tone
from storage.crypto import generate_key
from storage.store import Storage
from tests.fakes.server import running
from tests.fakes.slack import FakeSlack
from tests.memory import World


async def test_while_an_update_is_sent_only_the_newest_of_the_next_ones_follows():
    coalescer = Coalescer()
    sent: list[int] = []
    release = asyncio.Event()

    def update(number: int):
        async def send() -> None:
            if number == 1:
                await release.wait()
            sent.append(number)

        return send

    first = asyncio.create_task(coalescer.submit("message", update(1)))
    await asyncio.sleep(0)
    queued = [asyncio.create_task(coalescer.submit("message", update(n))) for n in (2, 3, 4)]
    await coalescer.submit("another message", update(9))
    assert sent == [9]
    release.set()
    await first
    await asyncio.gather(*queued)

    assert sent == [9, 1, 4]
    await coalescer.submit("message", update(5))
    assert sent == [9, 1, 4, 5]


async def test_a_queued_send_returns_only_once_it_or_a_newer_one_went_out():
    """A reply that replaces a message, queued behind another send to it, is recorded as
    sent by its caller when ``submit`` returns: not before it went out."""
    coalescer = Coalescer()
    sent: list[str] = []
    release = asyncio.Event()

    async def slow() -> None:
        await release.wait()
        sent.append("first")

    async def queued() -> None:
        sent.append("queued")

    first = asyncio.create_task(coalescer.submit("message", slow))
    await asyncio.sleep(0)
    waiting = asyncio.create_task(coalescer.submit("message", queued))
    for _ in range(5):
        await asyncio.sleep(0)
    assert not waiting.done()  # not sent yet: its caller must not record it

    release.set()
    await waiting
    assert sent == ["first", "queued"]
    await first


async def test_a_queued_send_that_fails_raises_to_whoever_waits_on_it():
    coalescer = Coalescer()
    release = asyncio.Event()

    async def slow() -> None:
        await release.wait()

    async def refused() -> None:
        raise ReplyFailed("the response_url answered HTTP 404")

    first = asyncio.create_task(coalescer.submit("message", slow))
    await asyncio.sleep(0)
    waiting = asyncio.create_task(coalescer.submit("message", refused))
    await asyncio.sleep(0)
    release.set()
    with pytest.raises(ReplyFailed):
        await waiting
    await first  # its own send went out


async def test_an_answer_replacing_the_message_that_never_arrived_is_not_taken_as_sent():
    """The network failed on the response_url: whoever waits must know (to answer by DM),
    not record the answer as sent."""
    async with aiohttp.ClientSession() as http:
        reply = ResponseUrlReply("http://127.0.0.1:9/nowhere", http, Coalescer())
        with pytest.raises(aiohttp.ClientError):
            await reply.send({"text": "Booked", "blocks": []}, replace=True)


async def test_a_network_failure_is_logged_by_its_type_without_the_response_url(
    caplog: pytest.LogCaptureFixture,
):
    url = "http://127.0.0.1:9/actions/T1/123/SECRETPART"
    async with aiohttp.ClientSession() as http:
        reply = ResponseUrlReply(url, http, Coalescer())
        transport = SlackTransport(
            cast("SlackMessenger", None),
            cast("AsyncWebClient", None),
            ProgramId("slack:T1"),
            reply=reply,
        )
        with caplog.at_level(logging.WARNING):
            sent = await perform(
                Answer(Notice("Booked", Tone.SUCCESS), replaces_original=True), transport
            )
    assert sent is False  # not recorded as sent
    assert "Slack could not be reached: ClientConnectorError" in caplog.text
    assert "SECRETPART" not in caplog.text
    assert "Traceback" not in caplog.text


@pytest.fixture
async def slack_client() -> AsyncIterator[tuple[FakeSlack, AsyncWebClient]]:
    slack = FakeSlack()
    slack.add_user("U0MARIA", name="maria", real_name="Maria Lopez", tz="Europe/Madrid")
    slack.add_user("U0ROBOT", name="robot", is_bot=True)
    async with running(slack.app) as base, aiohttp.ClientSession() as http:
        settings = SlackSettings(
            signing_secret=Secret("s"), bot_token=Secret(slack.bot_token), api_url=f"{base}/api/"
        )
        yield slack, web_client(settings, http, slack.bot_token)


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[Storage]:
    opened = Storage.open(f"sqlite+aiosqlite:///{tmp_path / 'pairtime.db'}", [generate_key()])
    await prepare_database(opened.database, migrate_if_behind=False)
    yield opened
    await opened.close()


def over(storage: Storage) -> Scheduler:
    """Core's use cases with people and programs in ``storage`` (the rest in memory)."""
    return Scheduler(replace(World().ports, people=storage.people, programs=storage.programs))


async def test_a_profile_is_read_once_even_when_asked_for_at_once(slack_client, storage):
    slack, client = slack_client
    people = SlackPeople(over(storage))

    found = await asyncio.gather(*(people.lookup(client, "T1", "U0MARIA") for _ in range(20)))

    assert slack.count("users.info") == 1
    assert {person.id for person in found if person} == {found[0].id}  # type: ignore[union-attr]
    assert found[0] is not None
    assert (found[0].name, found[0].timezone, found[0].email) == (
        "Maria Lopez",
        "Europe/Madrid",
        "maria@example.org",
    )
    again = await people.lookup(client, "T1", "U0MARIA")
    assert again == found[0]
    assert slack.count("users.info") == 1


async def test_bots_and_unknown_users_are_nobody_to_meet(slack_client, storage):
    slack, client = slack_client
    people = SlackPeople(over(storage))

    assert await people.lookup(client, "T1", "U0ROBOT") is None
    assert await people.lookup(client, "T1", "U0GHOST") is None
    speaker = await people.speaker(client, "T1", "U0GHOST")  # still answered, by user id
    assert speaker.name == "U0GHOST"
    assert slack.count("users.info") == 3  # an unknown user is not cached: asked again


class SlowInbox:
    """Keeps rows as the durable inbox would, each write held until the test lets it go."""

    def __init__(self) -> None:
        self.written: list[tuple[str, int, str]] = []
        self.go = asyncio.Event()

    async def keep_newest(self, kind: str, key: str, payload: Json, version: int) -> bool:
        assert kind == CARD_JOB
        await self.go.wait()
        self.written.append((key, version, str(payload["text"])))
        return True


async def test_card_renders_that_come_while_one_is_written_are_written_once_as_the_newest():
    inbox = SlowInbox()
    cards = CardWrites(cast("Inbox", inbox))
    rendered: list[str] = []

    def card(text: str) -> Callable[[], Json]:
        def render() -> Json:
            rendered.append(text)
            return {"text": text}

        return render

    first = asyncio.create_task(cards.keep("card:C1:1.1", card("v1"), 1))
    for _ in range(3):
        await asyncio.sleep(0)  # the first write is on its way
    waiting = [asyncio.create_task(cards.keep("card:C1:1.1", card(f"v{v}"), v)) for v in (3, 2)]
    other = asyncio.create_task(cards.keep("card:C2:2.2", card("w1"), 1))
    await asyncio.sleep(0)
    assert not any(t.done() for t in (first, *waiting, other))  # none is kept yet

    inbox.go.set()
    await asyncio.gather(first, *waiting, other)

    assert sorted(inbox.written) == [
        ("card:C1:1.1", 1, "v1"),
        ("card:C1:1.1", 3, "v3"),  # v2 came later than v3 but is older: never written
        ("card:C2:2.2", 1, "w1"),
    ]
    assert sorted(rendered) == ["v1", "v3", "w1"]  # only what is written is rendered


async def test_an_answer_at_a_response_url_never_logs_it_or_its_body(
    caplog: pytest.LogCaptureFixture,
):
    """Even with every logger at DEBUG: the response_url answers for the person who asked,
    and the answer says what they wrote."""
    slack = FakeSlack()
    async with running(slack.app) as base, aiohttp.ClientSession() as http:
        url = slack.response_url(base)
        with caplog.at_level(logging.DEBUG):
            await ResponseUrlReply(url, http, Coalescer()).send(
                {"text": "Times with Maria", "blocks": []}
            )
    assert slack.answered(url) == []
    assert "Times with Maria" not in caplog.text
    assert url.rsplit("/", 1)[-1] not in caplog.text


async def test_a_rate_limited_response_url_is_answered_once_slack_lets_it_in():
    """Slack's 429 with Retry-After is waited out and the answer sent again (slack_sdk's retry
    handler, as every Web API call); the body goes as slack_sdk sends it: JSON, without
    its top-level nulls."""
    received: list[tuple[str, Json]] = []

    async def answer(request: web.Request) -> web.Response:
        received.append((request.headers["Content-Type"], await request.json()))
        if len(received) == 1:
            return web.Response(status=429, headers={"Retry-After": "0"})
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/response/1", answer)
    async with running(app) as base, aiohttp.ClientSession() as http:
        await ResponseUrlReply(f"{base}/response/1", http, Coalescer()).send(
            {"text": "Times", "blocks": [], "thread_ts": None}
        )
    sent = {"text": "Times", "blocks": [], "response_type": "ephemeral", "replace_original": False}
    assert received == [("application/json;charset=utf-8", sent)] * 2


async def test_a_response_url_that_refuses_the_answer_says_so():
    async def gone(_request: web.Request) -> web.Response:
        return web.Response(status=404, text="expired_url")

    app = web.Application()
    app.router.add_post("/response/1", gone)
    async with running(app) as base, aiohttp.ClientSession() as http:
        with pytest.raises(ReplyFailed, match="HTTP 404"):
            await ResponseUrlReply(f"{base}/response/1", http, Coalescer()).send({"text": "x"})

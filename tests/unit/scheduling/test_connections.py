"""Connect, status and disconnect, as a participant experiences them."""

from __future__ import annotations

from dataclasses import replace

from core.calendars import ConnectionStatus
from core.commands import Command, Intent, Provider, Relation, RelationRef
from core.people import ChatIdentity, Platform
from core.program import ProgramSettings
from core.rules import AllDayEvents
from core.views import ConnectionStatusView, ConnectPrompt, Notice, SlotPicker, Tone
from tests.memory import PROGRAM, World


async def test_connect_in_a_private_chat_answers_with_one_link_per_allowed_service():
    world = World()
    ana = world.person("Ana", connected=None)
    outcome = await world.send(ana, Command(Intent.CONNECT))
    prompt = outcome.reply
    assert isinstance(prompt, ConnectPrompt)
    assert [link.url for link in prompt.links] == [
        "https://pairtime.test/connect/google?state=s1",
        "https://pairtime.test/connect/microsoft?state=s2",
        "https://pairtime.test/connect/icloud?state=s3",
    ]
    # Each link is bound to the identity that asked.
    assert {identity for identity, _, _ in world.calendars.issued} == {
        ChatIdentity(Platform.SLACK, "T1", "UANA")
    }
    assert outcome.direct == ()


async def test_connect_in_a_channel_sends_the_links_privately():
    world = World()
    ana = world.person("Ana", connected=None)
    outcome = await world.send(ana, Command(Intent.CONNECT), private=False)
    assert isinstance(outcome.reply, Notice)
    assert "private message" in outcome.reply.text
    (message,) = outcome.direct
    assert message.person == ana.id
    assert isinstance(message.view, ConnectPrompt)


async def test_connect_a_named_service_and_a_disallowed_one():
    world = World()
    world.programs.current[PROGRAM] = ProgramSettings(
        allowed_providers=frozenset({Provider.GOOGLE, Provider.MICROSOFT})
    )
    ana = world.person("Ana", connected=None)
    google = (await world.send(ana, Command(Intent.CONNECT, provider=Provider.GOOGLE))).reply
    assert isinstance(google, ConnectPrompt)
    assert [link.label for link in google.links] == ["Connect Google"]
    refused = (await world.send(ana, Command(Intent.CONNECT, provider=Provider.ICLOUD))).reply
    assert refused == Notice(
        "This program doesn't use iCloud calendars. You can connect: Google, "
        "Microsoft 365 / Outlook.com.",
        Tone.WARNING,
    )
    everything = (await world.send(ana, Command(Intent.CONNECT))).reply
    assert isinstance(everything, ConnectPrompt)
    assert len(everything.links) == 2


async def test_status_connected_not_connected_and_needing_a_reconnect():
    world = World()
    ana = world.person("Ana", email="ana@example.org")
    connected = (await world.send(ana, Command(Intent.STATUS))).reply
    assert isinstance(connected, ConnectionStatusView)
    assert connected.text == "Your Google calendar (ana@example.org) is connected."
    assert connected.disconnect is not None
    assert connected.connect is None

    world.calendars.connections[ana.id] = replace(
        world.calendars.connections[ana.id], status=ConnectionStatus.NEEDS_RECONNECT
    )
    stale = (await world.send(ana, Command(Intent.STATUS))).reply
    assert isinstance(stale, ConnectionStatusView)
    assert stale.needs_reconnect
    assert stale.text.startswith("Your Google calendar (ana@example.org) needs to be reconnected")
    assert stale.connect is not None
    assert [link.label for link in stale.connect.links] == ["Connect Google"]

    bea = world.person("Bea", connected=None)
    none = (await world.send(bea, Command(Intent.STATUS))).reply
    assert isinstance(none, ConnectionStatusView)
    assert none.text == "Your calendar is not connected."
    assert none.provider is None
    assert none.connect is not None
    assert len(none.connect.links) == 3


async def test_disconnect_removes_the_connection_and_says_so():
    world = World()
    ana = world.person("Ana", connected=Provider.MICROSOFT)
    outcome = await world.send(ana, Command(Intent.DISCONNECT))
    assert outcome.reply == Notice(
        "Your Microsoft 365 / Outlook.com calendar is disconnected, and I deleted the access I "
        "had to it.",
        Tone.SUCCESS,
    )
    assert ana.id not in world.calendars.connections
    again = await world.send(ana, Command(Intent.DISCONNECT))
    assert isinstance(again.reply, Notice)
    assert again.reply.text == "You have no calendar connected, so there was nothing to remove."


async def test_the_disconnect_button_works_for_its_owner_only():
    world = World()
    ana = world.person("Ana")
    ben = world.person("Ben")
    status = (await world.send(ana, Command(Intent.STATUS))).reply
    assert isinstance(status, ConnectionStatusView)
    assert status.disconnect is not None
    refused = await world.click(ben, status.disconnect.action)
    assert isinstance(refused.reply, Notice)
    assert ana.id in world.calendars.connections
    await world.click(ana, status.disconnect.action)
    assert ana.id not in world.calendars.connections


async def test_a_successful_connection_is_confirmed_privately():
    world = World()
    ana = world.person("Ana", connected=None)
    outcome = world.scheduler.calendar_connected(ana.id, Provider.ICLOUD, "ana@icloud.com")
    assert outcome.reply is None
    (message,) = outcome.direct
    assert message.person == ana.id
    assert message.view == Notice(
        "Your iCloud calendar (ana@icloud.com) is connected. I'll use its free/busy times "
        "from now on.",
        Tone.SUCCESS,
    )


async def test_only_services_the_server_can_connect_are_offered():
    world = World()
    world.calendars.available = frozenset({Provider.ICLOUD})
    ana = world.person("Ana", connected=None)
    prompt = (await world.send(ana, Command(Intent.CONNECT))).reply
    assert isinstance(prompt, ConnectPrompt)
    assert [link.label for link in prompt.links] == ["Connect iCloud"]
    world.calendars.available = frozenset()
    nothing = (await world.send(ana, Command(Intent.CONNECT))).reply
    assert isinstance(nothing, Notice)
    assert nothing.text.startswith("No calendar service is set up on this Pairtime server yet.")


async def test_connect_links_never_appear_where_others_can_see_them():
    world = World()
    ana = world.person("Ana", connected=None)
    world.pair(ana, world.person("Ben"))
    shared = (await world.send(ana, Command(Intent.STATUS), private=False)).reply
    assert isinstance(shared, ConnectionStatusView)
    assert shared.connect is None
    assert "in a private chat" in shared.text
    picker = (
        await world.send(
            ana,
            Command(Intent.FIND_TIME, (RelationRef(Relation.MENTEE),)),
            private=False,
        )
    ).reply
    assert isinstance(picker, SlotPicker)
    assert picker.connect is None
    assert "Say “connect my calendar” to me in a private chat to connect yours." in picker.notes
    assert world.calendars.issued == []  # no single-use link was even made


async def test_a_calendar_that_misses_free_events_asks_its_owner_to_reconnect_once():
    world = World()
    ana = world.person("Ana")
    ben = world.person("Ben", connected=Provider.ICLOUD)
    cleo = world.person("Cleo")
    world.calendars.connections[ana.id] = replace(
        world.calendars.connections[ana.id], misses_free_events=True
    )

    sent = await world.scheduler.reconnect_requests()

    ((program, outcome),) = sent
    assert program == PROGRAM
    (message,) = outcome.direct
    assert message.person == ana.id
    assert isinstance(message.view, ConnectPrompt)
    assert "so that all-day events are counted" in message.view.text
    assert [link.label for link in message.view.links] == ["Connect Google"]
    assert world.calendars.asked == {ana.id: world.clock.now()}
    assert await world.scheduler.reconnect_requests() == []  # once only
    assert {ben.id, cleo.id}.isdisjoint(world.calendars.asked)


async def test_no_request_is_noted_where_there_is_no_link_to_offer():
    world = World()
    world.programs.current[PROGRAM] = ProgramSettings(
        allowed_providers=frozenset({Provider.ICLOUD})
    )
    ana = world.person("Ana")
    world.calendars.connections[ana.id] = replace(
        world.calendars.connections[ana.id], misses_free_events=True
    )
    assert await world.scheduler.reconnect_requests() == []
    assert world.calendars.asked == {}  # asked later, if Google is allowed again


async def test_the_status_says_to_reconnect_until_the_calendar_sees_all_day_events():
    world = World()
    ana = world.person("Ana")
    world.calendars.connections[ana.id] = replace(
        world.calendars.connections[ana.id], misses_free_events=True
    )
    view = (await world.say(ana, "status")).reply
    assert isinstance(view, ConnectionStatusView)
    assert view.needs_reconnect
    assert view.text.startswith("Your Google calendar (ana@example.org) is connected. It was")
    assert "so that all-day events are counted" in view.text
    assert view.connect is not None
    assert [link.label for link in view.connect.links] == ["Connect Google"]

    world.connect(ana)  # reconnected: a new connection sees everything
    view = (await world.say(ana, "status")).reply
    assert isinstance(view, ConnectionStatusView)
    assert view.text == "Your Google calendar (ana@example.org) is connected."
    assert not view.needs_reconnect


async def test_the_status_says_when_most_of_the_next_two_weeks_are_taken():
    world = World()
    ana = world.person("Ana")
    for days, note in ((7, False), (8, True), (None, False)):
        world.calendars.connections[ana.id] = replace(
            world.calendars.connections[ana.id], away_days=days
        )
        view = (await world.say(ana, "status")).reply
        assert isinstance(view, ConnectionStatusView)
        said = "all-day or out-of-office events took 8 of the next 14 days"
        assert (said in view.text) is note
        assert ("counts as busy even when it's marked free" in view.text) is note
    world.programs.current[PROGRAM] = ProgramSettings(
        rules=replace(ProgramSettings().rules, all_day_events=AllDayEvents.AS_MARKED)
    )
    world.calendars.connections[ana.id] = replace(world.calendars.connections[ana.id], away_days=10)
    view = (await world.say(ana, "status")).reply
    assert isinstance(view, ConnectionStatusView)
    assert "took 10 of the next 14 days" in view.text
    assert "All-day events marked free don't count in this program" in view.text

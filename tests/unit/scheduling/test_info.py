from __future__ import annotations

from core.commands import Command, Intent, Provider
from core.program import ProgramSettings, VideoRule
from core.rules import Rules
from core.views import HelpView, SettingsView
from tests.memory import PROGRAM, World


async def test_help_lists_examples():
    world = World()
    reply = (await world.send(world.person("Ana"), Command(Intent.HELP))).reply
    assert isinstance(reply, HelpView)
    assert "find a time with my mentee next week" in reply.examples
    assert reply.hint is None


async def test_what_is_not_understood_gets_help_with_the_hint():
    world = World()
    command = Command(Intent.UNKNOWN, hint="I didn't catch what you'd like to do.")
    reply = (await world.send(world.person("Ana"), command)).reply
    assert isinstance(reply, HelpView)
    assert reply.hint == "I didn't catch what you'd like to do."


async def test_settings_show_the_rules_and_admins_may_edit():
    world = World()
    ana = world.person("Ana")
    world.programs.current[PROGRAM] = ProgramSettings(
        rules=Rules(weekends=True, buffer_minutes=10), default_duration_minutes=45
    )
    shown = (await world.send(ana, Command(Intent.SETTINGS))).reply
    assert isinstance(shown, SettingsView)
    lines = dict(shown.lines)
    assert lines["Meeting hours"] == "08:00 to 18:00, in each person's own time zone"
    assert lines["Weekends"] == "allowed"
    assert lines["Default length"] == "45 minutes"
    assert lines["Buffer around busy times"] == "10 minutes"
    assert not shown.can_edit
    world.programs.admin_pairs.add((PROGRAM, ana.id))
    admin_view = (await world.send(ana, Command(Intent.SETTINGS))).reply
    assert isinstance(admin_view, SettingsView)
    assert admin_view.can_edit


async def test_a_video_rule_is_shown_only_when_set():
    world = World()
    ana = world.person("Ana")
    shown = (await world.send(ana, Command(Intent.SETTINGS))).reply
    assert isinstance(shown, SettingsView)
    assert "Video meeting" not in dict(shown.lines)
    world.programs.current[PROGRAM] = ProgramSettings(video=VideoRule.TEAMS)
    shown = (await world.send(ana, Command(Intent.SETTINGS))).reply
    assert isinstance(shown, SettingsView)
    assert dict(shown.lines)["Video meeting"] == "a Teams meeting on each calendar invitation"


async def test_the_calendar_services_named_are_those_people_can_connect():
    """Issue 14: one list everywhere; an allowed service the server lacks is the admins'."""
    world = World()
    ana = world.person("Ana")
    world.calendars.available = frozenset({Provider.ICLOUD})
    shown = (await world.send(ana, Command(Intent.SETTINGS))).reply
    assert isinstance(shown, SettingsView)
    assert dict(shown.lines)["Calendar services"] == "iCloud"
    assert dict(shown.lines)["Who can find times with whom"] == (
        "their own mentors, mentees and circles (admins: anyone)"
    )
    world.programs.admin_pairs.add((PROGRAM, ana.id))
    admin_view = (await world.send(ana, Command(Intent.SETTINGS))).reply
    assert isinstance(admin_view, SettingsView)
    assert dict(admin_view.lines)["Calendar services"] == (
        "iCloud; allowed, but not set up on this server: "
        "Google (add GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET); "
        "Microsoft 365 / Outlook.com "
        "(add MICROSOFT_CALENDAR_CLIENT_ID and MICROSOFT_CALENDAR_CLIENT_SECRET)"
    )
    connect = (await world.say(ana, "connect my google calendar")).reply
    assert connect is not None
    assert "You can connect: iCloud." in str(connect)

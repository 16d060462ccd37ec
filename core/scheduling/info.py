"""Help, the program's settings, and answers for what is not understood or not built yet."""

from __future__ import annotations

from core.commands import Provider
from core.program import ConfirmationRule, ProgramSettings, VideoRule, Visibility
from core.rules import AllDayEvents
from core.scheduling.context import Context, Ports
from core.views import HelpView, Outcome, SettingsView

# The online meeting the program account adds to the events it creates.
VIDEO = {
    VideoRule.NONE: "none",
    VideoRule.TEAMS: "a Teams meeting on each calendar invitation",
    VideoRule.MEET: "a Google Meet on each calendar invitation",
}
EXAMPLES = (
    "find a time with my mentee next week",
    "find 45 min with @maria tomorrow afternoon",
    "schedule an hour with my mentor before Friday",
    "poll my circle for an hour next week",
    "connect my google calendar",
    "status",
    "disconnect my calendar",
)

HELP_TEXT = (
    "I find meeting times for mentoring pairs and circles from everyone's calendars, "
    "reading free/busy times only. Ask me in plain English, for example:"
)


def help_view(hint: str | None = None) -> HelpView:
    return HelpView(HELP_TEXT, EXAMPLES, hint)


def help_outcome(hint: str | None = None) -> Outcome:
    return Outcome(help_view(hint))


async def settings(ports: Ports, ctx: Context) -> Outcome:
    program = await ports.programs.settings(ctx.program)
    admin = await ports.programs.is_admin(ctx.program, ctx.person.id)
    return Outcome(settings_view(program, can_edit=admin, available=ports.links.available))


# What an admin adds to the server's environment for each service (see .env.example).
SETUP = {
    Provider.GOOGLE: "GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET",
    Provider.MICROSOFT: "MICROSOFT_CALENDAR_CLIENT_ID and MICROSOFT_CALENDAR_CLIENT_SECRET",
    Provider.ICLOUD: "PAIRTIME_CALDAV_URL",
}


def services_text(
    allowed: frozenset[Provider], available: frozenset[Provider], *, admin: bool
) -> str:
    """The calendar services people can connect: those the program allows and the server
    has set up, the one list every answer names. Admins also see what the program allows
    but the server lacks, and what to add."""
    offered = [p.label for p in Provider if p in allowed and p in available]
    text = ", ".join(offered) or "none set up yet"
    missing = [p for p in Provider if p in allowed and p not in available]
    if admin and missing:
        text += "; allowed, but not set up on this server: " + "; ".join(
            f"{p.label} (add {SETUP[p]})" for p in missing
        )
    return text


def settings_view(
    program: ProgramSettings, *, can_edit: bool, available: frozenset[Provider]
) -> SettingsView:
    rules = program.rules
    return SettingsView(
        "Program rules",
        (
            (
                "Meeting hours",
                f"{rules.earliest} to {rules.latest}, in each person's own time zone",
            ),
            ("Weekends", "allowed" if rules.weekends else "not offered"),
            ("Default length", f"{program.default_duration_minutes} minutes"),
            ("Start times", f"every {rules.granularity_minutes} minutes"),
            ("Minimum notice", f"{rules.min_notice_minutes} minutes"),
            ("Buffer around busy times", f"{rules.buffer_minutes} minutes"),
            ("Tentative events", "count as busy" if rules.tentative_is_busy else "count as free"),
            (
                "All-day events",
                "count as busy"
                if rules.all_day_events is AllDayEvents.BUSY
                else "count as their calendar marks them",
            ),
            (
                "Calendar services",
                services_text(program.allowed_providers, available, admin=can_edit),
            ),
            (
                "Who can find times with whom",
                "anyone in the program"
                if program.availability_visible_to is Visibility.PROGRAM
                else "their own mentors, mentees and circles (admins: anyone)",
            ),
            (
                "Confirmation",
                "the partner accepts a proposed time"
                if program.confirmation is ConfirmationRule.PARTNER
                else "a chosen time is booked at once",
            ),
            (
                "Reminders",
                f"{program.reminder_minutes} minutes before each meeting"
                if program.reminder_minutes
                else "none",
            ),
            ("Where meetings happen", program.location.describe()),
            *(
                (("Video meeting", VIDEO[program.video]),)
                if program.video is not VideoRule.NONE
                else ()
            ),
        ),
        can_edit=can_edit,
    )

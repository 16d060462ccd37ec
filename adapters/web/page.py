"""The playground page: a person switcher, the conversation, and how to try it. Pure.

The roster comes from the database (whoever the demo program holds now), so
the instructions stay true after ``pairtime demo reset`` or any change.
"""

from __future__ import annotations

import json
from html import escape

from adapters.web.render import zone_name
from core.scheduling.directory import Member, Role, Roster

GROUP_LABELS = {Role.MENTOR: "Mentors", Role.MENTEE: "Mentees", Role.CIRCLE: "Circle members"}


DIRECT = "dm"  # the conversation with Pairtime, in the page's address and API


def page(roster: Roster, *, person: str | None, place: str, password: str) -> str:
    """The whole page, showing ``person`` (a user id) in ``place`` (``dm`` or a channel)."""
    showcase = _showcase_pair(roster)
    current = (
        roster.member(person or "")
        or (showcase[0] if showcase else None)
        or (roster.members[0] if roster.members else None)
    )
    if current is not None and place != DIRECT and place not in current.channels:
        place = DIRECT
    return (
        "<!doctype html>"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        "<title>Pairtime playground</title>"
        '<link rel="stylesheet" href="/playground/static/app.css">'
        '<script src="/playground/static/app.js" defer></script>'
        "</head><body>"
        '<a class="skip" href="#text">Skip to the message box</a>'
        '<header class="top"><h1>Pairtime playground</h1>'
        "<p>The real Pairtime, in a local web chat: the same engine, database and messages as "
        "in Slack and Teams, with a demo program to play with. There is no sign-in: anyone who "
        "can open this page can act as anyone.</p></header>"
        f'<div class="layout" data-in="{escape(place)}">'
        f"{_switcher(roster, current, place)}"
        f"{_chat(current, place)}"
        f"{_guide(roster, password)}"
        "</div></body></html>"
    )


def _switcher(roster: Roster, current: Member | None, place: str) -> str:
    groups = []
    for role in Role:
        options = "".join(
            _option(member, selected=member is current)
            for member in roster.members
            if member.role is role
        )
        if options:
            groups.append(f'<optgroup label="{GROUP_LABELS[role]}">{options}</optgroup>')
    circles = escape(json.dumps({circle.channel: circle.name for circle in roster.circles}))
    return (
        '<section class="who" aria-labelledby="who-title">'
        '<h2 id="who-title">Who are you?</h2>'
        '<label for="person">Act as</label>'
        f'<select id="person" name="person">{"".join(groups)}</select>'
        '<nav aria-label="Conversations">'
        f'<div id="conversations" class="conversations" data-circles="{circles}" '
        f'data-current="{escape(place)}"></div></nav>'
        "</section>"
    )


def _option(member: Member, *, selected: bool) -> str:
    flag = " selected" if selected else ""
    return (
        f'<option value="{escape(member.user_id)}" '
        f'data-channels="{escape(" ".join(member.channels))}"{flag}>'
        f"{escape(member.name)} \u2014 {escape(zone_name(member.zone))}</option>"
    )


def _chat(current: Member | None, place: str) -> str:
    title = "Pairtime" if place == DIRECT else f"#{place}"
    if current is None:
        return (
            '<main class="chat"><h2 id="conversation-title">No demo people yet</h2>'
            "<p>The demo program is empty: run <code>pairtime demo reset</code>.</p></main>"
        )
    return (
        '<main class="chat" aria-labelledby="conversation-title">'
        f'<h2 id="conversation-title">{escape(title)}</h2>'
        '<ol id="log" class="log" role="log" aria-live="polite" '
        'aria-label="Messages"></ol>'
        '<p id="status" class="status" role="status"></p>'
        '<form id="say" class="say">'
        '<label for="text" class="visually-hidden">Message</label>'
        '<input id="text" name="text" autocomplete="off" maxlength="1000" required '
        'placeholder="find a time with my mentee next week">'
        '<button type="submit" class="button primary">Send</button></form>'
        "</main>"
    )


def _guide(roster: Roster, password: str) -> str:
    steps: list[str] = []
    pair = _showcase_pair(roster)
    if pair is not None:
        mentor, mentee = pair
        steps.append(
            f"<li>Book a meeting: as {_who(mentor)}, say "
            f"{_try(mentor, 'find a time with my mentee next week')}, then click a time.</li>"
            f"<li>Switch to {_who(mentee)} to see the confirmation on the other side, with the "
            "invitation to download.</li>"
        )
    unconnected = next((m for m in roster.members if not m.connected and m.email), None)
    if unconnected is not None and unconnected.email is not None:
        steps.append(
            f"<li>Connect a calendar: as {_who(unconnected)}, say "
            f"{_try(unconnected, 'connect my calendar')} and open the link. Sign in with the "
            f"Apple ID <code>{escape(unconnected.email)}</code> and the app-specific password "
            f"<code>{escape(password)}</code>. Then try {_try(unconnected, 'status')} and "
            f"{_try(unconnected, 'disconnect my calendar')}.</li>"
        )
    if roster.circles:
        circle = roster.circles[0]
        members = [m for m in (roster.member(u) for u in circle.members) if m is not None]
        if members:
            organiser, voters = members[0], members[1:]
            others = " and ".join(_who(m) for m in voters) or "the others"
            steps.append(
                f"<li>Vote in a poll: as {_who(organiser)} in "
                f"<strong>#{escape(circle.channel)}</strong>, say "
                f"{_try(organiser, 'poll my circle', place=circle.channel)} and post it; then "
                f"switch to {others} to vote, and close it as {escape(organiser.name)}.</li>"
            )
    return (
        '<aside class="guide" aria-labelledby="guide-title">'
        '<h2 id="guide-title">Try it</h2>'
        f'<ol class="steps">{"".join(steps)}</ol>'
        "<p>Or type anything: Pairtime answers in plain English (“help” lists what it "
        "understands). Times are always shown in the selected person's own time zone.</p>"
        "<p>Every demo person's calendar lives on a local CalDAV server: to connect one, "
        "sign in with their email address and the app-specific password "
        f"<code>{escape(password)}</code>.</p>"
        "<p><code>pairtime demo reset</code> restores the demo program. This page has no "
        "authentication; it is never on in production.</p>"
        "</aside>"
    )


def _showcase_pair(roster: Roster) -> tuple[Member, Member] | None:
    """A pair to book with: both calendars connected if possible, the first pair otherwise."""
    pairs = [
        (mentor, mentee)
        for mentor, mentee in ((roster.member(a), roster.member(b)) for a, b in roster.pairs)
        if mentor is not None and mentee is not None
    ]
    both = [p for p in pairs if p[0].connected and p[1].connected]
    chosen = both or pairs
    return chosen[0] if chosen else None


def _who(member: Member) -> str:
    city = member.zone.key.rsplit("/", 1)[-1].replace("_", " ")
    return f"<strong>{escape(member.name)}</strong> ({escape(member.role.value)}, {escape(city)})"


def _try(member: Member, text: str, *, place: str = DIRECT) -> str:
    """A button that switches to ``member`` in ``place`` and says ``text`` there."""
    return (
        f'<button type="button" class="button example" data-person="{escape(member.user_id)}" '
        f'data-in="{escape(place)}" data-say="{escape(text)}">{escape(text)}</button>'
    )

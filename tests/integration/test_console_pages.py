"""The console's roster pages over HTTP: people and their calendar status, reminders,
pairs and circles (with a CSV import previewed first), admins and integrations."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from bot.settings import load_settings
from core.commands import Provider
from core.organisation import OrganisationSetup, OrgProvider, Verified
from core.secret import Secret
from storage import models
from tests.console import Member, browser, csrf_of, get, member, open_link, post, sign_in_link
from tests.memory import FixedClock
from tests.support import AppUnderTest, running_app

NOW = datetime(2026, 12, 7, 9, tzinfo=UTC)


@pytest.fixture
async def app(tmp_path: Path):
    settings = load_settings({}, dotenv_path=None)
    async with running_app(settings, tmp_path, clock=FixedClock(NOW)) as running:
        yield running


async def signed_in(app: AppUnderTest, who: Member) -> aiohttp.ClientSession:
    session = browser()
    await open_link(session, await sign_in_link(app, who))
    return session


def rows(page: str) -> list[str]:
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", "<tr" + row)).strip()
        for row in body.split("<tr")[1:]
    ]


async def test_people_show_their_calendar_status_and_are_reminded_once_a_day(app: AppUnderTest):
    ana = await member(app, "T1", "U1", "Ana Admin")
    await app.storage.programs.grant_admin(ana.program, ana.person.id)
    maria = await member(app, "T1", "U3", "Maria Mentor")
    sam = await member(app, "T1", "U4", "Sam Mentee")
    track = await app.storage.tracks.create(ana.program, "Engineering", NOW)
    await app.storage.pairings.pair(ana.program, maria.person.id, sam.person.id, track.id)
    await app.storage.connections.replace(
        maria.person.id, Provider.GOOGLE, "maria@gmail.example", {"token": "t0ps3cret"}, NOW
    )
    people = f"{app.base_url}/console/people"
    async with await signed_in(app, ana) as session:
        status, page = await get(session, people)
        assert status == 200
        listed = rows(page)
        assert any(
            "Maria Mentor" in r
            and "mentor" in r
            and "Engineering" in r
            and "connected (Google)" in r
            for r in listed
        )
        assert any("Sam Mentee" in r and "not connected" in r and "never" in r for r in listed)
        assert "t0ps3cret" not in page
        assert "maria@gmail.example" not in page  # the calendar's account is its owner's
        _, page = await get(session, people + "?show=not-connected")
        assert [r for r in rows(page) if "Mentor" in r] == []
        assert any("Sam Mentee" in r for r in rows(page))
        async with session.get(people + ".csv?show=not-connected") as answer:
            assert answer.headers["Content-Type"].startswith("text/csv")
            exported = (await answer.text()).splitlines()
        assert exported[0] == "Name,Email,Roles,Tracks,Calendar,Service,Last read"
        assert exported[1:] == [
            "Ana Admin,u1@example.org,admin,,not connected,,never",
            "Sam Mentee,u4@example.org,mentee,Engineering,not connected,,never",
        ]
        chosen = {"person": sam.person.id}
        status, page = await post(session, people + "/remind", chosen, csrf_from=people)
        assert status == 200
        assert "Reminders sent to 1 person(s)." in page
        status, page = await post(session, people + "/remind", chosen, csrf_from=people)
        assert "Reminders sent to 0 person(s). 1 had one today already." in page
        status, page = await post(
            session, people + "/remind", {"person": maria.person.id}, csrf_from=people
        )
        assert "1 can be read already" in page


async def test_pairs_are_added_moved_removed_and_imported_after_a_preview(app: AppUnderTest):
    ana = await member(app, "T1", "U1", "Ana Admin")
    await app.storage.programs.grant_admin(ana.program, ana.person.id)
    other = await app.storage.tracks.create(ana.program, "Managers", NOW)
    pairs = f"{app.base_url}/console/pairs"
    async with await signed_in(app, ana) as session:
        status, page = await post(
            session,
            pairs + "/add",
            {"mentor": "maria@example.org", "mentee": "sam@example.org", "track": ""},
            csrf_from=pairs,
        )
        assert status == 200
        assert "Added." in page
        listing = await app.storage.pairings.listing(ana.program)
        assert [(p.mentor.email, p.mentee.email) for p in listing] == [
            ("maria@example.org", "sam@example.org")
        ]
        mentor, mentee = f"person:{listing[0].mentor.id}", f"person:{listing[0].mentee.id}"
        status, page = await post(
            session,
            pairs + "/move",
            {"mentor": mentor, "mentee": mentee, "track": other.id},
            csrf_from=pairs,
        )
        assert "Moved." in page
        assert (await app.storage.pairings.listing(ana.program))[0].track == other.id
        status, page = await post(
            session, pairs + "/add", {"mentor": "x", "mentee": "x@example.org"}, csrf_from=pairs
        )
        assert status == 400
        assert "neither an email address nor a chat user id" in page
        # A CSV with a bad line: previewed, nothing written, then the good lines only.
        csv = "mentor,mentee\nlee@example.org,kim@example.org\nnot an address,kim@example.org\n"
        _, page = await get(session, pairs)
        form = aiohttp.FormData()
        form.add_field("csrf", csrf_of(page))
        form.add_field("track", other.id)
        form.add_field("file", csv.encode(), filename="pairs.csv", content_type="text/csv")
        async with session.post(pairs + "/import", data=form) as answer:
            assert answer.status == 200
            preview = await answer.text()
        assert "1 new, 0 unchanged, 1 with an error" in preview
        assert len(await app.storage.pairings.listing(ana.program)) == 1
        content = re.search(
            r'<textarea id="content" name="content" hidden>(.*?)</textarea>', preview, re.DOTALL
        )
        assert content is not None
        status, page = await post(
            session,
            pairs + "/import",
            {
                "csrf": csrf_of(preview),
                "track": other.id,
                "content": content.group(1),
                "action": "import",
            },
        )
        assert "1 new, 0 unchanged, 1 with an error" in page  # all or nothing: not written
        assert len(await app.storage.pairings.listing(ana.program)) == 1
        status, page = await post(
            session,
            pairs + "/import",
            {
                "csrf": csrf_of(preview),
                "track": other.id,
                "content": content.group(1),
                "action": "partial",
            },
        )
        assert "Added." in page
        assert len(await app.storage.pairings.listing(ana.program)) == 2
        status, page = await post(
            session, pairs + "/remove", {"mentor": mentor, "mentee": mentee}, csrf_from=pairs
        )
        assert "Removed." in page
        assert len(await app.storage.pairings.listing(ana.program)) == 1
        _, page = await get(session, f"{app.base_url}/console/audit")
        assert "pair" in page
        assert "Managers" in page


async def test_a_track_admin_cannot_touch_another_tracks_pairs_or_the_admins(app: AppUnderTest):
    ana = await member(app, "T1", "U1", "Ana Admin")
    tom = await member(app, "T1", "U2", "Tom Trackadmin")
    maria = await member(app, "T1", "U3", "Maria Mentor")
    sam = await member(app, "T1", "U4", "Sam Mentee")
    mine = await app.storage.tracks.create(ana.program, "Engineering", NOW)
    theirs = await app.storage.tracks.create(ana.program, "Managers", NOW)
    await app.storage.tracks.grant(mine.id, tom.person.id)
    await app.storage.pairings.pair(ana.program, maria.person.id, sam.person.id, theirs.id)
    pairs = f"{app.base_url}/console/pairs"
    async with await signed_in(app, tom) as session:
        _, page = await get(session, pairs)
        assert "Maria Mentor" not in page
        _, page = await get(session, f"{app.base_url}/console/people")
        assert "Maria Mentor" not in page
        refs = {"mentor": f"person:{maria.person.id}", "mentee": f"person:{sam.person.id}"}
        status, _ = await post(session, pairs + "/remove", refs, csrf_from=pairs)
        assert status == 403
        status, _ = await post(
            session, pairs + "/move", {**refs, "track": mine.id}, csrf_from=pairs
        )
        assert status == 403
        for path in ("/console/admins", "/console/integrations"):
            assert (await get(session, app.base_url + path))[0] == 403, path
        status, _ = await post(
            session, f"{app.base_url}/console/admins/grant", {"person": "U2"}, csrf_from=pairs
        )
        assert status == 403
    assert (await app.storage.pairings.listing(ana.program))[0].track == theirs.id
    assert not await app.storage.programs.is_admin(ana.program, tom.person.id)


async def test_admins_are_granted_and_revoked_and_integrations_listed(app: AppUnderTest):
    ana = await member(app, "T1", "U1", "Ana Admin")
    bea = await member(app, "T1", "U5", "Bea Second")
    await app.storage.programs.grant_admin(ana.program, ana.person.id)
    track = await app.storage.tracks.create(ana.program, "Engineering", NOW)
    admins = f"{app.base_url}/console/admins"
    async with await signed_in(app, ana) as session:
        status, page = await post(
            session, admins + "/grant", {"person": "U5", "track": track.id}, csrf_from=admins
        )
        assert status == 200
        assert any("Bea Second" in r and "Engineering" in r for r in rows(page))
        status, page = await post(
            session, admins + "/revoke", {"person": f"person:{bea.person.id}"}, csrf_from=admins
        )
        assert not any("Bea Second" in r for r in rows(page))
        status, page = await get(session, f"{app.base_url}/console/integrations")
        assert status == 200
        for label in ("Google Workspace", "Microsoft 365", "Exchange"):
            assert label in page
        assert page.count("Not connected.") == 3
        status, page = await post(
            session, f"{app.base_url}/console/integrations/google/disable", {}, csrf_from=admins
        )
        assert status == 200


async def meeting_row(
    app: AppUnderTest, ref: str, people: list[Member], start: datetime, status: str
) -> None:
    async with app.storage.database.transaction() as session:
        session.add(
            models.Meeting(
                ref=ref,
                program_id=people[0].program,
                organizer_id=people[0].person.id,
                start=start,
                end=start + timedelta(hours=1),
                title="Mentoring",
                status=status,
                sequence=0,
                created_at=start - timedelta(days=2),
            )
        )
        await session.flush()
        session.add_all(
            models.MeetingParticipant(meeting_ref=ref, person_id=p.person.id, position=n)
            for n, p in enumerate(people)
        )


async def test_activity_counts_each_pairs_meetings_charts_weeks_and_exports_csv(
    app: AppUnderTest,
):
    ana = await member(app, "T1", "U1", "Ana Admin")
    await app.storage.programs.grant_admin(ana.program, ana.person.id)
    maria = await member(app, "T1", "U3", "Maria Mentor")
    sam = await member(app, "T1", "U4", "=Sam Mentee")  # a formula, if a sheet ran it
    lee = await member(app, "T1", "U6", "Lee Quiet")
    track = await app.storage.tracks.create(ana.program, "Engineering", NOW)
    await app.storage.pairings.pair(ana.program, maria.person.id, sam.person.id, track.id)
    await app.storage.pairings.pair(ana.program, lee.person.id, sam.person.id, track.id)
    pair = [maria, sam]
    await meeting_row(app, "m1", pair, NOW - timedelta(days=9), "confirmed")
    await meeting_row(app, "m2", pair, NOW - timedelta(days=2), "confirmed")
    await meeting_row(app, "m3", pair, NOW - timedelta(days=1), "cancelled")
    await meeting_row(app, "m4", pair, NOW + timedelta(days=6), "confirmed")
    async with await signed_in(app, ana) as session:
        status, page = await get(session, f"{app.base_url}/console/activity")
        assert status == 200
        assert 'role="img"' in page
        assert "Meetings per week in Engineering" in page
        assert "1 of 2 pair(s) have not met in 30 days" in page
        listed = rows(page.split("<h2>Pairs</h2>", 1)[1])
        maria_row = next(r for r in listed if r.startswith("Maria Mentor"))
        # booked 3, held 2, cancelled 1, declined 0; met 2 days ago (less the hour)
        assert maria_row.split(" Engineering ")[1].startswith("3 2 1 0 ")
        assert maria_row.endswith(" 1 0 — —")  # days since, no poll, no rate, no wait
        async with session.get(f"{app.base_url}/console/activity/pairs.csv") as answer:
            assert answer.status == 200
            assert answer.headers["Content-Type"].startswith("text/csv")
            assert "attachment" in answer.headers["Content-Disposition"]
            exported = await answer.text()
        lines = exported.splitlines()
        assert lines[0].startswith("Mentor,Mentee,Track,Booked,Held,Cancelled,Declined")
        assert any(
            line.startswith("Maria Mentor,'=Sam Mentee,Engineering,3,2,1,0,") for line in lines
        )
        async with session.get(f"{app.base_url}/console/activity/tracks.csv") as answer:
            weekly = (await answer.text()).splitlines()
        assert weekly[0].count("Week of") == 12
        assert weekly[1].startswith("Engineering,")
        # Weeks of 23 and 30 November, and this one (its booked meeting on Sunday).
        assert weekly[1].endswith(",0,0,0,1,1,1")


async def test_people_read_through_the_organisation_say_so_and_need_no_reminder(
    app: AppUnderTest,
):
    ana = await member(app, "T1", "U1", "Ana Admin")
    await app.storage.programs.grant_admin(ana.program, ana.person.id)
    maria = await member(app, "T1", "U3", "Maria Mentor")  # u3@example.org: covered
    sam = await member(app, "T1", "U4", "Sam Mentee")
    await app.storage.pairings.pair(ana.program, maria.person.id, sam.person.id)
    await app.storage.organisations.opt_out(ana.program, sam.person.id, NOW)  # his choice
    setup = OrganisationSetup(
        OrgProvider.MICROSOFT,
        "Example Org",
        "mentoring@example.org",
        (),
        {"tenant": "t", "client_id": "c"},
        Secret(json.dumps({"client_secret": "s3cr3t-value"})),
    )
    verified = setup.as_verified(Verified(("example.org",)))
    await app.storage.organisations.save(ana.program, verified, None, NOW)
    people = f"{app.base_url}/console/people"
    async with await signed_in(app, ana) as session:
        _, page = await get(session, people)
        listed = rows(page)
        assert any(
            "Maria Mentor" in r and "through the organisation (Example Org (Microsoft 365))" in r
            for r in listed
        )
        assert any("Sam Mentee" in r and "not connected" in r for r in listed)
        assert "s3cr3t-value" not in page
        _, page = await post(
            session, people + "/remind", {"person": maria.person.id}, csrf_from=people
        )
        assert "1 can be read already" in page
        _, page = await get(session, f"{app.base_url}/console/integrations")
        # Maria and Ana herself: Sam opted out.
        assert "Example Org: example.org; 2 person(s) read through it." in page


async def test_circles_are_added_with_members_linked_moved_and_removed(app: AppUnderTest):
    ana = await member(app, "T1", "U1", "Ana Admin")
    await app.storage.programs.grant_admin(ana.program, ana.person.id)
    other = await app.storage.tracks.create(ana.program, "Managers", NOW)
    circles = f"{app.base_url}/console/circles"
    async with await signed_in(app, ana) as session:
        bad = {"name": "Leads", "members": "lee@example.org\nnot an address", "track": ""}
        status, page = await post(session, circles + "/add", bad, csrf_from=circles)
        assert status == 400
        assert "neither an email address nor a chat user id" in page
        assert await app.storage.groups.all(ana.program) == []  # nothing made
        good = {"name": "Leads", "members": "lee@example.org, kim@example.org", "track": ""}
        status, page = await post(session, circles + "/add", good, csrf_from=circles)
        assert "Added." in page
        (circle,) = await app.storage.groups.all(ana.program)
        assert len(circle.members) == 2
        link = {"name": "Leads", "channel": "javascript:alert(1)"}
        status, page = await post(session, circles + "/link", link, csrf_from=circles)
        assert status == 400
        assert "not a link to a Slack or Teams channel" in page
        link = {"name": "Leads", "channel": "https://acme.slack.com/archives/C0LEADS01"}
        status, page = await post(session, circles + "/link", link, csrf_from=circles)
        assert "channel is saved" in page
        moved = {"name": "Leads", "track": other.id}
        status, page = await post(session, circles + "/move", moved, csrf_from=circles)
        assert "Moved." in page
        (circle,) = await app.storage.groups.all(ana.program)
        assert (circle.channel, circle.track) == ("C0LEADS01", other.id)
        status, page = await post(
            session, circles + "/remove", {"name": "Leads"}, csrf_from=circles
        )
        assert "Removed." in page
        assert await app.storage.groups.all(ana.program) == []


async def test_a_program_wide_admin_forgets_a_person_once_confirmed(app: AppUnderTest):
    """Issue 21's button: only a program-wide admin sees and may use it, it asks for a
    confirmation, and afterwards the person is gone from the page and the database; the
    audit log says someone was forgotten, never who."""
    ana = await member(app, "T1", "U1", "Ana Admin")
    await app.storage.programs.grant_admin(ana.program, ana.person.id)
    maria = await member(app, "T1", "U3", "Maria Mentor")
    sam = await member(app, "T1", "U4", "Sam Forgettable")
    track = await app.storage.tracks.create(ana.program, "Engineering", NOW)
    await app.storage.pairings.pair(ana.program, maria.person.id, sam.person.id, track.id)
    lee = await member(app, "T1", "U5", "Lee Trackadmin")
    await app.storage.tracks.grant(track.id, lee.person.id)
    people = f"{app.base_url}/console/people"

    async with await signed_in(app, lee) as session:
        _, page = await get(session, people)
        assert "Forget this person" not in page
        status, _ = await post(
            session, people + "/forget", {"person": sam.person.id, "confirm": "yes"},
            csrf_from=people,
        )  # fmt: skip
        assert status == 403
    assert await app.storage.people.get(sam.person.id) is not None

    async with await signed_in(app, ana) as session:
        _, page = await get(session, people)
        assert "Forget this person" in page
        status, page = await post(
            session, people + "/forget", {"person": sam.person.id}, csrf_from=people
        )
        assert "Nothing was forgotten: tick the box to confirm first." in page
        assert await app.storage.people.get(sam.person.id) is not None

        status, page = await post(
            session, people + "/forget", {"person": sam.person.id, "confirm": "yes"},
            csrf_from=people,
        )  # fmt: skip
        assert status == 200
        assert "Forgotten." in page
        assert "Sam Forgettable" not in page
        _, audit = await get(session, f"{app.base_url}/console/audit")
        assert "a person was forgotten" in audit
        assert "Sam Forgettable" not in audit
    assert await app.storage.people.get(sam.person.id) is None


async def test_the_rules_page_says_which_allowed_services_this_server_lacks(app: AppUnderTest):
    """Issue 14: a program may allow Google and Microsoft while this server (no GOOGLE_* or
    MICROSOFT_CALENDAR_* set, as here) can connect only iCloud: the admin reads what to add."""
    ana = await member(app, "T1", "U1", "Ana Admin")
    await app.storage.programs.grant_admin(ana.program, ana.person.id)
    async with await signed_in(app, ana) as session:
        status, page = await get(session, f"{app.base_url}/console/rules")
    assert status == 200
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    assert "Google (not set up on this server: add GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET)" in (
        text
    )
    assert "Microsoft 365 / Outlook.com (not set up on this server: add " in text
    assert "iCloud (not set up" not in text
    assert "Who can find times with whom" in text

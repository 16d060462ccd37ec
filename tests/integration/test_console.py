"""The admin console over HTTP, through the running app: signing in with a chat link,
sessions in the database, CSRF, the headers, and what each kind of admin may change."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.settings import load_settings
from core.admin.programs import RuleChanges
from core.people import PersonId, ProgramId
from core.time import DayTime
from storage.repositories.console import hashed
from tests.console import browser, csrf_of, get, local, member, open_link, post, sign_in_link
from tests.memory import FixedClock
from tests.support import AppUnderTest, running_app

NOW = datetime(2026, 12, 7, 9, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
async def app(tmp_path: Path, clock: FixedClock):
    settings = load_settings({}, dotenv_path=None)
    async with running_app(settings, tmp_path, clock=clock) as running:
        yield running


async def test_an_admin_signs_in_with_a_link_and_out_again(app: AppUnderTest):
    ana = await member(app, "T1", "U1", "Ana Admin")
    await app.storage.programs.grant_admin(ana.program, ana.person.id)
    link = await sign_in_link(app, ana)
    assert link.startswith(app.base_url + "/console/sign-in?token=")
    async with browser() as session:
        # Opening the link only shows a button: a link preview uses nothing up.
        status, page = await get(session, link)
        assert status == 200
        assert "Sign in" in page
        answer = await open_link(session, link)
        assert answer.status == 200
        assert answer.url.path == "/console/tracks"
        cookie = next(c for c in session.cookie_jar if c.key == "pairtime_console")
        assert cookie["httponly"]
        assert cookie["samesite"] == "Lax"
        assert cookie["path"] == "/console"
        assert not cookie["secure"]  # the base URL is http here
        # The session is in the database, as a hash only: another process finds it.
        stored = await app.storage.console.session(cookie.value, NOW)
        assert stored is not None
        assert stored.person == ana.person.id
        assert stored.token_hash == hashed(cookie.value)
        status, page = await get(session, f"{app.base_url}/console/tracks")
        assert status == 200
        assert "Ana Admin" in page
        assert "Main" in page  # the program's first track
        status, page = await post(
            session,
            f"{app.base_url}/console/sign-out",
            {},
            csrf_from=f"{app.base_url}/console/tracks",
        )
        assert status == 200
        assert "signed out" in page
        assert await app.storage.console.session(cookie.value, NOW) is None
        status, _ = await get(session, f"{app.base_url}/console/tracks")
        assert status == 401


async def test_every_console_answer_carries_the_strict_headers(app: AppUnderTest):
    ana = await member(app, "T1", "U1", "Ana Admin")
    await app.storage.programs.grant_admin(ana.program, ana.person.id)
    async with browser() as session:
        await open_link(session, await sign_in_link(app, ana))
        for path in ("/console/tracks", "/console/rules", "/console/audit", "/console/nowhere"):
            async with session.get(app.base_url + path) as answer:
                assert answer.status in (200, 404), path
                policy = answer.headers["Content-Security-Policy"]
                assert "frame-ancestors 'none'" in policy, path
                assert answer.headers["Referrer-Policy"] == "no-referrer", path
                if answer.status == 200:
                    assert "script-src 'self'" in policy, path
                    assert "unsafe-inline" not in policy, path
                    assert answer.headers["Cache-Control"] == "no-store", path
                    assert "<script>" not in await answer.text()  # no inline script


async def test_the_cookie_is_secure_when_the_base_url_is_https(tmp_path: Path, clock: FixedClock):
    settings = replace(load_settings({}, dotenv_path=None), base_url="https://pairtime.example.org")
    async with running_app(settings, tmp_path, clock=clock) as app, browser() as session:
        ana = await member(app, "T1", "U1", "Ana Admin")
        await app.storage.programs.grant_admin(ana.program, ana.person.id)
        link = await sign_in_link(app, ana)
        async with session.get(link) as shown:
            token = shown.url.query["token"]
        async with session.post(
            f"{app.base_url}/console/sign-in", data={"token": token}, allow_redirects=False
        ) as answer:
            assert answer.status == 303
            set_cookie = answer.headers["Set-Cookie"]
        assert "Secure" in set_cookie
        assert "HttpOnly" in set_cookie
        assert "SameSite=Lax" in set_cookie


async def test_a_link_works_once_and_for_ten_minutes(app: AppUnderTest, clock: FixedClock):
    ana = await member(app, "T1", "U1", "Ana Admin")
    await app.storage.programs.grant_admin(ana.program, ana.person.id)
    link = await sign_in_link(app, ana)
    async with browser() as first, browser() as second:
        assert (await open_link(first, link)).status == 200
        reused = await open_link(second, link)
        assert reused.status == 401
        assert "used already" in await reused.text()
        assert not [c for c in second.cookie_jar if c.key == "pairtime_console"]
    late = await sign_in_link(app, ana)
    clock.advance(timedelta(minutes=10, seconds=1))
    async with browser() as session:
        expired = await open_link(session, late)
        assert expired.status == 401
        assert "expired" in await expired.text()
        bogus = await open_link(session, late.replace("token=", "token=x"))
        assert bogus.status == 401


async def test_a_link_of_someone_no_longer_admin_signs_nobody_in(app: AppUnderTest):
    ana = await member(app, "T1", "U1", "Ana Admin")
    await app.storage.programs.grant_admin(ana.program, ana.person.id)
    link = await sign_in_link(app, ana)
    await app.storage.programs.revoke_admin(ana.program, ana.person.id)
    async with browser() as session:
        answer = await open_link(session, link)
        assert answer.status == 403
        assert "not an admin" in await answer.text()
        assert not [c for c in session.cookie_jar if c.key == "pairtime_console"]


async def test_a_session_ends_after_eight_idle_hours_or_when_admin_is_revoked(
    app: AppUnderTest, clock: FixedClock
):
    ana = await member(app, "T1", "U1", "Ana Admin")
    await app.storage.programs.grant_admin(ana.program, ana.person.id)
    async with browser() as session:
        await open_link(session, await sign_in_link(app, ana))
        clock.advance(timedelta(hours=7, minutes=59))
        assert (await get(session, f"{app.base_url}/console/tracks"))[0] == 200
        clock.advance(timedelta(hours=7, minutes=59))  # used since: still alive
        assert (await get(session, f"{app.base_url}/console/tracks"))[0] == 200
        clock.advance(timedelta(hours=8))
        assert (await get(session, f"{app.base_url}/console/tracks"))[0] == 401
    async with browser() as session:
        await open_link(session, await sign_in_link(app, ana))
        await app.storage.programs.revoke_admin(ana.program, ana.person.id)
        assert (await get(session, f"{app.base_url}/console/tracks"))[0] == 401


async def test_a_form_without_its_csrf_token_changes_nothing(app: AppUnderTest):
    ana = await member(app, "T1", "U1", "Ana Admin")
    await app.storage.programs.grant_admin(ana.program, ana.person.id)
    async with browser() as session:
        await open_link(session, await sign_in_link(app, ana))
        before = await app.storage.tracks.all(ana.program)
        for data in ({"name": "Forged"}, {"name": "Forged", "csrf": "guessed"}):
            status, page = await post(session, f"{app.base_url}/console/tracks", data)
            assert status == 403
            assert "Nothing was changed" in page
        assert await app.storage.tracks.all(ana.program) == before
        status, page = await post(
            session,
            f"{app.base_url}/console/tracks",
            {"name": "New managers circles"},
            csrf_from=f"{app.base_url}/console/tracks",
        )
        assert status == 200
        assert "New managers circles" in page
        names = {t.name for t in await app.storage.tracks.all(ana.program)}
        assert "New managers circles" in names


async def test_a_track_admin_changes_their_track_only(app: AppUnderTest):
    ana = await member(app, "T1", "U1", "Ana Admin")
    tom = await member(app, "T1", "U2", "Tom Trackadmin")
    await app.storage.programs.grant_admin(ana.program, ana.person.id)
    engineering = await app.storage.tracks.create(ana.program, "Engineering", NOW)
    managers = await app.storage.tracks.create(ana.program, "Managers", NOW)
    await app.storage.tracks.grant(engineering.id, tom.person.id)
    base = app.base_url
    async with browser() as session:
        await open_link(session, await sign_in_link(app, tom))
        status, page = await get(session, f"{base}/console/tracks")
        assert status == 200
        assert "Engineering" in page
        assert "Managers" not in page
        assert "New track" not in page  # creating tracks is the program's admins'
        status, _ = await get(session, f"{base}/console/tracks/{managers.id}/rules")
        assert status == 403
        own = f"{base}/console/tracks/{engineering.id}/rules"
        status, _ = await post(
            session,
            f"{base}/console/tracks/{managers.id}/rules",
            {"override.earliest": "1", "rule.earliest": "11:00"},
            csrf_from=own,
        )
        assert status == 403
        status, _ = await post(
            session, f"{base}/console/tracks", {"name": "Mine now"}, csrf_from=own
        )
        assert status == 403
        status, _ = await get(session, f"{base}/console/rules")  # the program's: theirs instead
        assert status == 200
        status, page = await post(
            session, own, {"override.earliest": "1", "rule.earliest": "10:30"}, csrf_from=own
        )
        assert status == 200, page
        assert "Saved" in page
    found = {t.id: t for t in await app.storage.tracks.all(ana.program)}
    assert found[managers.id].rules == RuleChanges()
    assert found[engineering.id].rules == RuleChanges(earliest="10:30")
    assert {t.name for t in found.values()} == {"Engineering", "Managers"}


async def test_a_session_reaches_its_own_program_only(app: AppUnderTest):
    ana = await member(app, "T1", "U1", "Ana Admin")
    other = await member(app, "T2", "U9", "Olga Other")
    await app.storage.programs.grant_admin(ana.program, ana.person.id)
    await app.storage.programs.grant_admin(other.program, other.person.id)
    theirs = await app.storage.tracks.create(other.program, "Their track", NOW)
    async with browser() as session:
        await open_link(session, await sign_in_link(app, ana))
        tracks = f"{app.base_url}/console/tracks"
        status, _ = await post(
            session, f"{tracks}/{theirs.id}/rename", {"name": "Taken over"}, csrf_from=tracks
        )
        assert status == 404
        status, _ = await get(session, f"{tracks}/{theirs.id}/rules")
        assert status == 404
    assert [t.name for t in await app.storage.tracks.all(other.program)] == ["Their track"]


async def test_a_tracks_rules_are_inherited_until_set_and_the_next_search_uses_them(
    app: AppUnderTest,
):
    ana = await member(app, "T1", "U1", "Ana Admin")
    await app.storage.programs.grant_admin(ana.program, ana.person.id)
    mentor = await member(app, "T1", "U3", "Maria Mentor")
    mentee = await member(app, "T1", "U4", "Sam Mentee")
    track = await app.storage.tracks.create(ana.program, "Engineering", NOW)
    await app.storage.pairings.pair(ana.program, mentor.person.id, mentee.person.id, track.id)
    among: list[PersonId] = [mentor.person.id, mentee.person.id]
    async with browser() as session:
        await open_link(session, await sign_in_link(app, ana))
        rules = f"{app.base_url}/console/tracks/{track.id}/rules"
        status, page = await get(session, rules)
        assert status == 200
        assert page.count("Inherited from the program") >= 10
        status, page = await post(
            session, rules, {"override.earliest": "1", "rule.earliest": "11:00"}, csrf_from=rules
        )
        assert status == 200
        assert "Saved" in page
        assert "08:00 (the program&#39;s)" in page  # the audit log: old → new
        settings = await app.storage.programs.settings(ProgramId(ana.program), among=among)
        assert settings.rules.earliest == DayTime.of(11, 0)
        # A bad value is refused, named by its label, and nothing changes.
        status, page = await post(
            session, rules, {"override.latest": "1", "rule.latest": "08:00"}, csrf_from=rules
        )
        assert status == 400
        assert "Latest end" in page
        settings = await app.storage.programs.settings(ProgramId(ana.program), among=among)
        assert settings.rules.earliest == DayTime.of(11, 0)
        # Unticked, it follows the program again.
        status, page = await post(session, rules, {}, csrf_from=rules)
        assert status == 200
        settings = await app.storage.programs.settings(ProgramId(ana.program), among=among)
        assert settings.rules.earliest == DayTime.of(8, 0)
        status, page = await get(session, f"{app.base_url}/console/audit")
        assert page.count("Earliest start") == 2
        assert "Ana Admin" in page


async def test_admin_in_chat_answers_admins_with_a_link_and_others_no(app: AppUnderTest):
    ana = await member(app, "T1", "U1", "Ana Admin")
    bob = await member(app, "T1", "U2", "Bob Mentee")
    await app.storage.programs.grant_admin(ana.program, ana.person.id)
    scheduler = app.services.scheduler
    for who, private in ((ana, True), (ana, False), (bob, True)):
        ctx = await scheduler.context(who.program, who.person, who.identity, private=private)
        outcome = await scheduler.handle_text(ctx, "admin")
        if who is bob:
            assert "not an admin" in outcome.reply.text  # type: ignore[union-attr]
            assert not outcome.direct
            continue
        prompt = outcome.reply if private else outcome.direct[0].view
        if not private:
            assert "private message" in outcome.reply.text  # type: ignore[union-attr]
        (button,) = prompt.buttons  # type: ignore[union-attr]
        async with browser() as session:
            assert (await open_link(session, local(app, button.url))).status == 200  # type: ignore[union-attr]


async def test_csrf_token_belongs_to_its_session(app: AppUnderTest):
    ana = await member(app, "T1", "U1", "Ana Admin")
    await app.storage.programs.grant_admin(ana.program, ana.person.id)
    tracks = f"{app.base_url}/console/tracks"
    async with browser() as first, browser() as second:
        await open_link(first, await sign_in_link(app, ana))
        await open_link(second, await sign_in_link(app, ana))
        _, page = await get(first, tracks)
        status, _ = await post(second, tracks, {"name": "Crossed", "csrf": csrf_of(page)})
        assert status == 403

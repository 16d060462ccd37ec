"""CSV imports as transactions: every line checked first, then all written at once, or
nothing when a line is bad (unless partial); a bad line never creates anybody."""

from __future__ import annotations

from sqlalchemy import func, select

from core.admin import imports, roster, tracks
from core.admin.access import Scope
from core.admin.imports import LineStatus
from core.admin.ports import AdminPorts
from storage import models
from storage.store import Storage
from tests.admin.conftest import PROGRAM


async def count(storage: Storage, model: type[models.Base]) -> int:
    async with storage.database.reading() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_one_bad_line_and_nothing_is_written_each_line_said(ports, scope, storage):
    lines = [
        "mentor,mentee",
        "ana@example.org,ben@example.org",
        "ana@example.org,U024BE7LH",
        "not an email,ben@example.org",
        "ana@example.org",
        "cy@example.org,CY@example.org",  # a self-pair of two new people
        "ana@example.org,ben@example.org",
        "",
        "dee\x00@example.org,ana@example.org",
        "eve@exa\x07mple.org,ana@example.org",
        "ana@example.org," + "x" * 1_000_000,
    ]

    report = await import_pairs(ports, scope, lines)

    assert not report.written
    assert [(p.line, p.status) for p in report.preview.lines] == [
        (2, LineStatus.NEW),
        (3, LineStatus.NEW),
        (4, LineStatus.ERROR),
        (5, LineStatus.ERROR),
        (6, LineStatus.ERROR),
        (7, LineStatus.UNCHANGED),
        (9, LineStatus.ERROR),
        (10, LineStatus.ERROR),
        (11, LineStatus.ERROR),
    ]
    texts = [p.text for p in report.preview.lines]
    assert texts[0] == (
        "pair ana@example.org → ben@example.org (new: ana@example.org, ben@example.org)"
    )
    assert texts[1] == "pair ana@example.org → U024BE7LH (new: U024BE7LH)"
    assert texts[2] == "'not an email' is neither an email address nor a chat user id"
    assert texts[3] == "expected two columns, mentor and mentee; got 'ana@example.org'"
    assert texts[4] == "a person cannot mentor themselves"
    assert texts[5] == "already paired ana@example.org → ben@example.org"
    assert texts[6] == "the line contains a NUL character"
    assert texts[7] == "'eve@exa\\x07mple.org' contains a control character"
    assert texts[8] == "the line is longer than 4,000 characters"
    assert await count(storage, models.Person) == 0
    assert await count(storage, models.Pairing) == 0

    partial = await import_pairs(ports, scope, lines, partial=True)

    assert partial.written
    pairs = await roster.pairs(ports, scope)
    assert [(p.mentor.email, p.mentee.email or p.mentee.name) for p in pairs] == [
        ("ana@example.org", "ben@example.org"),
        ("ana@example.org", "U024BE7LH"),
    ]
    assert await count(storage, models.Person) == 3  # nobody from the refused lines
    again = await import_pairs(ports, scope, lines[:3])
    assert not again.written  # nothing new
    assert {p.status for p in again.preview.lines} == {LineStatus.UNCHANGED}
    log = await ports.audit.recent(PROGRAM)
    assert [e.change.subject for e in log] == [
        "pair ana@example.org → ben@example.org",
        "pair ana@example.org → U024BE7LH",
    ]


async def test_a_good_file_is_imported_whole_into_the_track_named(ports, scope, storage):
    await tracks.tracks(ports, scope)
    cohort = await tracks.create_track(ports, scope, "Cohort 2")
    lines = [f"mentor{n}@example.org,mentee{n}@example.org" for n in range(300)]

    preview = await imports.preview_pairs(ports, scope, lines, "Cohort 2")
    assert await count(storage, models.Pairing) == 0  # a preview writes nothing
    report = await imports.write(ports, scope, preview)

    assert preview.count(LineStatus.NEW) == 300
    assert report.written
    assert await count(storage, models.Person) == 600
    assert {p.track for p in await roster.pairs(ports, scope)} == {cohort.id}
    # Someone known by email, named again in another case, is the same person.
    known = await import_pairs(ports, scope, ["MENTOR1@example.org,U0NEW"])
    assert known.preview.lines[0].text == "pair MENTOR1@example.org → U0NEW (new: U0NEW)"


async def test_circles_are_checked_whole_channels_one_circle_each(ports, scope, storage):
    lines = [
        "circle,member,channel",
        "Circle A,ana@example.org,C0AAAA",
        "Circle A,ben@example.org",
        "Circle B,ben@example.org,https://acme.slack.com/archives/C0BBBB",
        "Circle B,cy@example.org,C0AAAA",
        "Circle B,not an email",
        "Circle A",
        "Circle A,ben@example.org",
        "Circle C,dee@example.org,javascript:alert(1)",
        "Circle C,dee@example.org,https://evil.example.com/archives/C0EVIL",
        "Circle C,dee@example.org,http://acme.slack.com/archives/C0PLAIN",
        "Circle D,eve@example.org,https://teams.microsoft.com/l/channel/19%3aabc%40thread.tacv2/G",
    ]

    report = await import_circles(ports, scope, lines, partial=True)

    assert report.written
    assert [(p.line, p.status, p.text) for p in report.preview.lines] == [
        (
            2,
            LineStatus.NEW,
            "add ana@example.org → Circle A (new circle, meets in C0AAAA, new: ana@example.org)",
        ),
        (3, LineStatus.NEW, "add ben@example.org → Circle A (new: ben@example.org)"),
        (4, LineStatus.NEW, "add ben@example.org → Circle B (new circle, meets in C0BBBB)"),
        (5, LineStatus.ERROR, "C0AAAA is already the channel of the circle 'Circle A'"),
        (6, LineStatus.ERROR, "'not an email' is neither an email address nor a chat user id"),
        (
            7,
            LineStatus.ERROR,
            "expected circle, member and optionally channel; got 'Circle A'",
        ),
        (8, LineStatus.UNCHANGED, "ben@example.org is in Circle A already"),
        (9, LineStatus.ERROR, _not_a_link("'javascript:alert(1)'")),
        (10, LineStatus.ERROR, _not_a_link("'https://evil.example.com/archives/C0EVIL'")),
        (11, LineStatus.ERROR, _not_a_link("'http://acme.slack.com/archives/C0PLAIN'")),
        (
            12,
            LineStatus.NEW,
            (
                "add eve@example.org → Circle D (new circle, meets in 19:abc@thread.tacv2, "
                "new: eve@example.org)"
            ),
        ),
    ]
    listed = await roster.circles(ports, scope)
    assert [(c.circle.name, c.circle.channel, len(c.members)) for c in listed] == [
        ("Circle A", "C0AAAA", 2),
        ("Circle B", "C0BBBB", 1),
        ("Circle D", "19:abc@thread.tacv2", 1),
    ]
    assert await count(storage, models.Person) == 3  # ana, ben, eve: nobody refused
    again = await import_circles(ports, scope, lines, partial=True)
    assert not again.written
    assert LineStatus.NEW not in {p.status for p in again.preview.lines}


def _not_a_link(shown: str) -> str:
    return (
        f"{shown} is not a link to a Slack or Teams channel: copy the channel's link in Slack "
        "or Teams, or give its id"
    )


async def import_pairs(
    ports: AdminPorts, scope: Scope, lines: list[str], *, partial: bool = False
) -> imports.ImportReport:
    preview = await imports.preview_pairs(ports, scope, lines)
    return await imports.write(ports, scope, preview, partial=partial)


async def import_circles(
    ports: AdminPorts, scope: Scope, lines: list[str], *, partial: bool = False
) -> imports.ImportReport:
    preview = await imports.preview_circles(ports, scope, lines)
    return await imports.write(ports, scope, preview, partial=partial)

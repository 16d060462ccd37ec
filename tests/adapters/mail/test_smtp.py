"""Invitations reach a real SMTP server (aiosmtpd, in-process) the way mail clients need them.

Each message is read back from the bytes the server received, with ``email`` and
``icalendar``, and checked for what RFC 5546 / 6047 and the mail clients ask: the MIME
layout, ``method=`` matching METHOD, ORGANIZER = From, UID kept across changes, SEQUENCE
raised, CANCEL with STATUS:CANCELLED. Then the validators' ``imip`` check reads the same
bytes the way Thunderbird's parser does (skipped where ../shared is absent).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar, Event

from adapters.mail.config import MailSettings, Security
from adapters.mail.smtp import SmtpMailer
from core.errors import MailRefused
from core.invitations import InvitationEmail, Mailbox, Method, emails
from core.meetings import Meeting, MeetingStatus
from core.people import Person, PersonId, ProgramId
from core.program import ProgramSettings
from core.secret import Secret
from tests.fakes.server import TestCertificate
from tests.mail_server import MailServer
from tests.memory import FixedClock
from tests.support import validate, validators

NOW = datetime(2026, 11, 25, 10, tzinfo=UTC)
PROGRAM = Mailbox("Mentoring Program", "mentoring@example.org")
MARIA = Person(PersonId("p-maria"), "María López", "maria@example.org", "Europe/Madrid")
SAM = Person(PersonId("p-sam"), "Sam Lee", "sam@example.org", "America/New_York")
NO_MAIL = Person(PersonId("p-kim"), "Kim", None, "Asia/Seoul")


def meeting(**changes: object) -> Meeting:
    booked = Meeting(
        ref="m-1",
        program=ProgramId("slack:T1"),
        organizer=MARIA.id,
        participants=(MARIA.id, SAM.id, NO_MAIL.id),
        start=datetime(2026, 12, 1, 14, tzinfo=UTC),
        end=datetime(2026, 12, 1, 14, 30, tzinfo=UTC),
        title="Mentoring: María and Sam",
        created_at=NOW,
        location="https://meet.example.org/abc-defg",
    )
    return replace(booked, **changes)  # type: ignore[arg-type]


def invitations(booked: Meeting) -> list[InvitationEmail]:
    return emails(
        booked,
        [MARIA, SAM, NO_MAIL],
        ProgramSettings(),
        sender=PROGRAM,
        stamp=NOW,
        zone=lambda person: ZoneInfo(person.timezone or "UTC"),
    )


def settings_for(server: MailServer, certificate: TestCertificate | None = None) -> MailSettings:
    security = {"none": Security.NONE, "starttls": Security.STARTTLS, "tls": Security.TLS}
    tls = server.security != "none"
    return MailSettings(
        host="127.0.0.1",
        port=server.port,
        security=security[server.security],
        sender=PROGRAM,
        username=server.user if tls else None,
        password=Secret(server.password) if tls else None,
        ca_bundle=str(certificate.ca_path) if certificate else None,
        timeout_seconds=10,
    )


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> TestCertificate:
    return TestCertificate.create(tmp_path_factory.mktemp("smtp-tls"))


def event_of(message: EmailMessage) -> tuple[Calendar, Any]:
    """The message's calendar and its one event (Any: icalendar types each property as a
    union of thirty value classes)."""
    mixed = list(message.iter_parts())
    alternative = mixed[0]
    assert alternative.get_content_type() == "multipart/alternative"
    text, calendar_part = alternative.iter_parts()
    assert text.get_content_type() == "text/plain"
    assert calendar_part.get_content_type() == "text/calendar"
    calendar = Calendar.from_ical(calendar_part.get_content())
    assert calendar_part.get_param("method") == str(calendar["method"])
    attached = mixed[1]
    assert attached.get_filename() == "invite.ics"
    assert attached.get_content() == calendar_part.get_content().encode()
    (event,) = calendar.walk("VEVENT")
    assert isinstance(event, Event)
    return calendar, event


def plain_text(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert isinstance(text, str)
    return text


@pytest.mark.parametrize("security", ["none", "starttls", "tls"])
async def test_book_move_and_cancel_arrive_as_itip_messages(security, certificate):
    server = await MailServer(security, certificate=certificate).start()
    mailer = SmtpMailer(settings_for(server, certificate), FixedClock(NOW))
    try:
        booked = meeting()
        moved = replace(
            booked,
            start=booked.start + timedelta(days=2),
            end=booked.end + timedelta(days=2),
            sequence=1,
        )
        cancelled = replace(moved, status=MeetingStatus.CANCELLED, sequence=2)
        for state in (booked, moved, cancelled):
            for each in invitations(state):
                await mailer.send(each)
    finally:
        await server.stop()

    # Kim has no email address: two recipients per change.
    pair = [("maria@example.org",), ("sam@example.org",)]
    assert [r.recipients for r in server.received] == pair * 3
    if security != "none":
        assert server.logins == [server.user] * 6
    messages = server.messages()
    uids = set()
    for index, message in enumerate(messages):
        assert message["From"].addresses[0].addr_spec == "mentoring@example.org"
        assert message["From"].addresses[0].display_name == "Mentoring Program"
        assert message["Date"]
        assert message["Message-ID"]
        assert message.get_content_type() == "multipart/mixed"
        calendar, event = event_of(message)
        assert str(event["organizer"]) == "mailto:mentoring@example.org"
        assert event["organizer"].params["CN"] == "Mentoring Program"
        attendees = {str(a): a.params for a in event["attendee"]}
        assert set(attendees) == {"mailto:maria@example.org", "mailto:sam@example.org"}
        for params in attendees.values():
            assert (params["PARTSTAT"], params["RSVP"]) == ("NEEDS-ACTION", "TRUE")
        assert event.decoded("dtstart").tzinfo is not None
        assert event["dtstart"].to_ical().endswith(b"Z")  # UTC: no VTIMEZONE needed
        assert "https://meet.example.org/abc-defg" in str(event["description"])
        assert str(event["location"]) == "https://meet.example.org/abc-defg"
        assert int(event["sequence"]) == index // 2
        uids.add(str(event["uid"]))
        if index < 4:
            assert str(calendar["method"]) == "REQUEST"
            assert str(event["status"]) == "CONFIRMED"
        else:
            assert str(calendar["method"]) == "CANCEL"
            assert str(event["status"]) == "CANCELLED"
    assert uids == {"m-1@pairtime"}
    moved_event = event_of(messages[2])[1]
    assert moved_event.decoded("dtstart") == datetime(2026, 12, 3, 14, tzinfo=UTC)

    # Each reader sees the time in their own zone, and nothing of anyone's calendar.
    to_sam = messages[1]
    assert to_sam["Subject"] == (
        "Invitation: Mentoring: María and Sam @ Tue 1 Dec 2026, 09:00\u201309:30 (America/New_York)"
    )
    text = plain_text(to_sam)
    assert "Hello Sam Lee," in text
    assert "With: María López, Kim" in text
    assert "replies to this email are not read" in text
    assert messages[2]["Subject"].startswith("Updated invitation:")
    assert messages[4]["Subject"].startswith("Cancelled:")


async def test_a_proposed_meeting_is_tentative():
    server = await MailServer().start()
    try:
        await SmtpMailer(settings_for(server), FixedClock(NOW)).send(
            invitations(meeting(status=MeetingStatus.PROPOSED))[0]
        )
    finally:
        await server.stop()
    _, event = event_of(server.messages()[0])
    assert str(event["status"]) == "TENTATIVE"
    text = plain_text(server.messages()[0])
    assert "waiting for an answer in chat" in text


async def test_a_wrong_password_is_retried_later_and_never_repeated(certificate, caplog):
    server = await MailServer("starttls", certificate=certificate).start()
    wrong = replace(settings_for(server, certificate), password=Secret("not-the-password-42"))
    caplog.set_level(logging.DEBUG)
    try:
        with pytest.raises(MailRefused) as failed:
            await SmtpMailer(wrong, FixedClock(NOW)).send(invitations(meeting())[0])
    finally:
        await server.stop()
    assert not failed.value.permanent
    assert "535" in failed.value.reason
    for text in (failed.value.reason, repr(failed.value), caplog.text):
        assert "not-the-password-42" not in text
        assert server.password not in text
    assert server.received == []


async def test_starttls_is_required_before_a_password_is_sent(certificate):
    """A server that offers no STARTTLS never sees the password."""
    plain = await MailServer("none").start()
    settings = replace(
        settings_for(plain), security=Security.STARTTLS, username="u", password=Secret("pw-9")
    )
    try:
        with pytest.raises(MailRefused) as failed:
            await SmtpMailer(settings, FixedClock(NOW)).send(invitations(meeting())[0])
    finally:
        await plain.stop()
    assert "pw-9" not in failed.value.reason
    assert plain.received == []


async def test_a_refused_address_is_given_up_and_a_down_server_is_retried():
    server = await MailServer().start()
    server.refuse("sam@example.org")
    mailer = SmtpMailer(settings_for(server), FixedClock(NOW))
    to_maria, to_sam = invitations(meeting())
    with pytest.raises(MailRefused) as refused:
        await mailer.send(to_sam)
    assert refused.value.permanent
    assert "550" in refused.value.reason
    await server.stop()
    with pytest.raises(MailRefused) as down:
        await mailer.send(to_maria)
    assert not down.value.permanent
    assert "could not be reached" in down.value.reason


async def test_a_declining_circle_member_is_sent_a_cancel_for_themselves_alone():
    server = await MailServer().start()
    declined = meeting(declined=(SAM.id,), sequence=1)
    (to_sam,) = emails(
        declined,
        [MARIA, SAM, NO_MAIL],
        ProgramSettings(),
        sender=PROGRAM,
        stamp=NOW,
        zone=lambda person: ZoneInfo(person.timezone or "UTC"),
        to=[SAM],
        method=Method.CANCEL,
        listed=[SAM],
    )
    try:
        await SmtpMailer(settings_for(server), FixedClock(NOW)).send(to_sam)
    finally:
        await server.stop()
    calendar, event = event_of(server.messages()[0])
    assert str(calendar["method"]) == "CANCEL"
    assert str(event["attendee"]) == "mailto:sam@example.org"


@pytest.mark.validators
async def test_the_messages_pass_the_imip_validator(tmp_path: Path, certificate):
    if validators() is None:
        pytest.skip("../shared/tools/validators is absent (a plain clone); .ci/run provides it")
    server = await MailServer("starttls", certificate=certificate).start()
    mailer = SmtpMailer(settings_for(server, certificate), FixedClock(NOW))
    booked = meeting()
    moved = replace(
        booked, start=booked.start + timedelta(days=1), end=booked.end + timedelta(days=1),
        sequence=1,
    )  # fmt: skip
    cancelled = replace(moved, status=MeetingStatus.CANCELLED, sequence=2)
    try:
        for state in (booked, moved, cancelled):
            await mailer.send(invitations(state)[0])
    finally:
        await server.stop()
    # The REQUEST, the moved REQUEST (the same UID, a higher SEQUENCE), the CANCEL.
    events = [event_of(each)[1] for each in server.messages()]
    assert len({str(e["uid"]) for e in events}) == 1
    assert [int(e["sequence"]) for e in events] == [0, 1, 2]
    files = []
    for index, received in enumerate(server.received):
        path = tmp_path / f"message-{index}.eml"
        path.write_bytes(received.content)
        files.append(path)
    ics = tmp_path / "invite.ics"
    ics.write_bytes(invitations(booked)[0].calendar)

    result = validate("imip", *files, ics)

    assert result.returncode == 0, result.stdout + result.stderr

"""The connect pages: whatever a person or a provider named is shown as text, never as HTML."""

from __future__ import annotations

from adapters.calendars import pages

EVIL = '<img src=x onerror="alert(1)">'


def test_confirm_escapes_every_value_and_keeps_the_state_in_the_form() -> None:
    response = pages.confirm("Google", EVIL, "Acme & Co", "/connect/go?a=1&b=2", 'st"ate')
    html = response.text or ""
    assert EVIL not in html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html
    assert "Acme &amp; Co" in html
    assert 'action="/connect/go?a=1&amp;b=2"' in html
    assert 'name="state" value="st&#34;ate"' in html
    assert "<title>Connect your Google calendar · Pairtime</title>" in html
    assert response.headers["Cache-Control"] == "no-store"


def test_icloud_form_shows_the_error_as_an_alert_and_answers_400() -> None:
    response = pages.icloud_form("Ana", "Acme", "/connect/icloud", "s", error=EVIL)
    assert response.status == 400
    assert f'<p class="error" role="alert">{EVIL}' not in (response.text or "")
    assert '<p class="error" role="alert">&lt;img' in (response.text or "")
    assert pages.icloud_form("Ana", "Acme", "/connect/icloud", "s").status == 200


def test_connected_names_the_account_only_when_there_is_one() -> None:
    assert "calendar (ana@example.com) is busy" in (
        pages.connected("Google", "ana@example.com").text or ""
    )
    assert "Google calendar is busy" in (pages.connected("Google", None).text or "")

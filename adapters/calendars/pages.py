"""The few web pages of connecting a calendar: small, accessible, readable on a phone.

The pages are templates in ``templates/`` (see :mod:`adapters.templates`): every value shown
is escaped; no page shows a token, a password or a state.
"""

from __future__ import annotations

from aiohttp import web

from adapters import templates

HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the address holds a one-time state
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self' https:; frame-ancestors 'none'; base-uri 'none'",
}


def page(template: str, title: str, *, status: int = 200, **values: object) -> web.Response:
    html = templates.render("adapters.calendars", template, title=title, **values)
    return web.Response(text=html, status=status, content_type="text/html", headers=HEADERS)


def connected(label: str, account: str | None) -> web.Response:
    return page(
        "connected.html", f"Your {label} calendar is connected", label=label, account=account
    )


def problem(title: str, text: str, *, status: int = 400) -> web.Response:
    return page("problem.html", title, text=text, status=status)


def confirm(label: str, person: str, where: str, action: str, state: str) -> web.Response:
    """The page before the provider's consent: says whose calendar this link connects."""
    return page(
        "confirm.html",
        f"Connect your {label} calendar",
        label=label,
        person=person,
        where=where,
        action=action,
        state=state,
    )


def icloud_form(person: str, where: str, action: str, state: str, error: str = "") -> web.Response:
    """Apple ID and app-specific password; never the Apple ID password itself."""
    return page(
        "icloud.html",
        "Connect your iCloud calendar",
        person=person,
        where=where,
        action=action,
        state=state,
        error=error,
        status=400 if error else 200,
    )

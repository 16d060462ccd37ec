"""The few web pages of connecting a calendar: small, accessible, readable on a phone.

Every value shown is escaped; no page shows a token, a password or a state.
"""

from __future__ import annotations

from html import escape

from aiohttp import web

STYLE = """
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;
background:#f5f5f7;color:#1d1d1f}
main{max-width:32rem;margin:3rem auto;padding:2rem;background:#fff;border-radius:12px;
box-shadow:0 1px 4px rgba(0,0,0,.08)}
h1{font-size:1.4rem;margin-top:0}
label{display:block;margin:1rem 0 .25rem;font-weight:600}
input{width:100%;box-sizing:border-box;padding:.6rem;font-size:1rem;border:1px solid #888;
border-radius:6px}
button{margin-top:1.25rem;padding:.7rem 1.2rem;font-size:1rem;border:0;border-radius:6px;
background:#2b59c3;color:#fff;cursor:pointer}
button:focus,input:focus{outline:3px solid #f4b400;outline-offset:2px}
.error{color:#a4000f;font-weight:600}
.muted{color:#555;font-size:.9rem}
"""


def page(title: str, body: str, *, status: int = 200) -> web.Response:
    html = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)} · Pairtime</title><style>{STYLE}</style></head>"
        f"<body><main><h1>{escape(title)}</h1>{body}</main></body></html>"
    )
    return web.Response(
        text=html,
        status=status,
        content_type="text/html",
        headers={
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",  # the address holds a one-time state
            "X-Frame-Options": "DENY",
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
            "form-action 'self' https:; frame-ancestors 'none'; base-uri 'none'",
        },
    )


def paragraph(text: str, *, kind: str = "") -> str:
    css = f' class="{kind}"' if kind else ""
    role = ' role="alert"' if kind == "error" else ""
    return f"<p{css}{role}>{escape(text)}</p>"


def connected(label: str, account: str | None) -> web.Response:
    whose = f" ({account})" if account else ""
    return page(
        f"Your {label} calendar is connected",
        paragraph(f"Pairtime can now see when your {label} calendar{whose} is busy.")
        + paragraph("You can close this tab.", kind="muted"),
    )


def problem(title: str, text: str, *, status: int = 400) -> web.Response:
    return page(
        title,
        paragraph(text, kind="error")
        + paragraph(
            "Nothing was changed. Ask Pairtime for a new link in chat: “connect my calendar”.",
            kind="muted",
        ),
        status=status,
    )


def confirm(label: str, person: str, where: str, action: str, state: str) -> web.Response:
    """The page before the provider's consent: says whose calendar this link connects."""
    return page(
        f"Connect your {label} calendar",
        paragraph(
            f"This link connects a {label} calendar to Pairtime for {person} ({where}). "
            "If that isn't you, close this tab."
        )
        + paragraph(
            f"{label} will ask you to let Pairtime see your calendar's events. Pairtime asks "
            "only for their times and whether they're busy, free, all-day or out of office — "
            "never their titles, descriptions, places or guests.",
            kind="muted",
        )
        + f'<form method="get" action="{escape(action)}">'
        f'<input type="hidden" name="state" value="{escape(state)}">'
        f"<button type=submit>Continue to {escape(label)}</button></form>",
    )


def icloud_form(person: str, where: str, action: str, state: str, error: str = "") -> web.Response:
    """Apple ID and app-specific password; never the Apple ID password itself."""
    return page(
        "Connect your iCloud calendar",
        (paragraph(error, kind="error") if error else "")
        + paragraph(f"For {person} ({where}).")
        + paragraph(
            "iCloud needs an app-specific password: a separate password you create for "
            "Pairtime and can revoke at any time. Never enter your Apple ID password here.",
        )
        + '<p><a href="https://support.apple.com/en-us/102654" rel="noreferrer">'
        "How to create an app-specific password</a></p>"
        + f'<form method="post" action="{escape(action)}">'
        f'<input type="hidden" name="state" value="{escape(state)}">'
        '<label for="apple_id">Apple ID (email)</label>'
        '<input id="apple_id" name="apple_id" type="email" autocomplete="username" required>'
        '<label for="password">App-specific password</label>'
        '<input id="password" name="password" type="password" autocomplete="off" required '
        'placeholder="xxxx-xxxx-xxxx-xxxx">'
        "<button type=submit>Connect iCloud</button></form>"
        + paragraph(
            "Pairtime keeps the Apple ID and app-specific password encrypted, and only reads "
            "when you're busy.",
            kind="muted",
        ),
        status=400 if error else 200,
    )

"""The one program the playground serves, and the sign-in its demo calendars share.

The demo (``bot.demo``) seeds this program and its CalDAV accounts; the page
shows the sign-in, since the connect form asks for it. It opens nothing but the
demo's own local calendar server, so it is published on purpose.
"""

from __future__ import annotations

from core.people import ChatIdentity, Platform, ProgramId

WORKSPACE = "demo"
PROGRAM = ProgramId(f"{Platform.WEB.value}:{WORKSPACE}")
# Every demo person's "app-specific password", in Apple's four-by-four shape; the Apple ID
# is the person's email address.
DEMO_PASSWORD = "pair-time-demo-only"  # noqa: S105 - published: it opens only the demo


def identity(user_id: str) -> ChatIdentity:
    """A playground person's chat identity."""
    return ChatIdentity(Platform.WEB, WORKSPACE, user_id)

"""Signing in to the admin console from chat: "admin" answers an admin, privately, with a
single-use link bound to the chat identity that asked (like a calendar's connect link)."""

from __future__ import annotations

from core.scheduling.context import Context, Ports
from core.views import DirectMessage, LinkButton, Notice, Outcome, Tone

NOT_AN_ADMIN = (
    "You're not an admin of this program, so there is no admin console for you. Your "
    "program's admins can make you one."
)
NO_CONSOLE = "This Pairtime server has no admin console."
SIGN_IN = (
    "Here is your link to the admin console. It works once, for you only, for 10 minutes; "
    "say “admin” again for a new one."
)
SENT = "I've sent you a private message with your link to the admin console."
OPEN_CONSOLE = "Open the admin console"


async def sign_in_prompt(ports: Ports, ctx: Context) -> Notice:
    """The sign-in link for the speaker, or why there is none."""
    if ports.console is None:
        return Notice(NO_CONSOLE, Tone.WARNING)
    if not await ports.console.may_sign_in(ctx.program, ctx.person.id):
        return Notice(NOT_AN_ADMIN, Tone.WARNING)
    url = await ports.console.link(ctx.program, ctx.identity, ctx.person.id)
    return Notice(SIGN_IN, buttons=(LinkButton(OPEN_CONSOLE, url),))


async def sign_in(ports: Ports, ctx: Context) -> Outcome:
    """A link is personal: asked for in a channel, it is sent in a private message."""
    prompt = await sign_in_prompt(ports, ctx)
    if ctx.private or not prompt.buttons:
        return Outcome(prompt)
    return Outcome(Notice(SENT), direct=(DirectMessage(ctx.person.id, prompt),))

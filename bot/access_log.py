"""The HTTP access log, without query strings.

Query strings carry single-use connect states (``/connect/google?state=…``)
and OAuth authorization codes (``/oauth/google/callback?code=…``): secrets
for a few minutes, so they never reach a log. An invitation's download link
holds its token in the path (``/invitations/{token}.ics``), which opens the
meeting's invitation for a month: it is logged without the token.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

# Paths whose rest is a bearer token.
SECRET_PATHS = ("/invitations/",)


class PathOnlyAccessLogger(AbstractAccessLogger):
    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            '%s "%s %s" %s %.1f ms',
            request.remote,
            request.method,
            loggable(request.path),
            response.status,
            time * 1000,
        )


def loggable(path: str) -> str:
    """``path`` without query string (aiohttp's ``path`` has none) or token."""
    for prefix in SECRET_PATHS:
        if path.startswith(prefix):
            return f"{prefix}…"
    return path

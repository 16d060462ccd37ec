"""The HTTP access log, without query strings.

Query strings carry single-use connect states (``/connect/google?state=…``)
and OAuth authorization codes (``/oauth/google/callback?code=…``): secrets
for a few minutes, so they never reach a log.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger


class PathOnlyAccessLogger(AbstractAccessLogger):
    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            '%s "%s %s" %s %.1f ms',
            request.remote,
            request.method,
            request.path,
            response.status,
            time * 1000,
        )

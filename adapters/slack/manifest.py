"""The Slack app manifest, filled with the public base URL.

The template (``manifests/slack/manifest.yaml``) is YAML so that each scope
and event can carry a comment saying why Pairtime needs it; Slack's "Create
an app from a manifest" takes YAML as it is. Filling it is plain text
substitution, so the comments survive.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

PLACEHOLDER = "{{BASE_URL}}"
FILENAME = "slack-manifest.yaml"

# What the OAuth install asks for; the manifest's bot scopes must say the same (a test checks).
BOT_SCOPES = (
    "app_mentions:read",
    "channels:read",
    "chat:write",
    "commands",
    "files:write",
    "groups:read",
    "im:history",
    "im:write",
    "mpim:read",
    "users:read",
    "users:read.email",
)

_SAFE_URL = re.compile(r"[A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=%-]+")


def template() -> str:
    """The manifest template, from the ``manifests`` package (or the source tree)."""
    try:
        return resources.files("manifests").joinpath("slack", "manifest.yaml").read_text("utf-8")
    except ModuleNotFoundError:
        # An installed `pairtime` whose package list lacks `manifests` (see docs/slack.md).
        source = Path(__file__).resolve().parents[2] / "manifests" / "slack" / "manifest.yaml"
        return source.read_text(encoding="utf-8")


def render_manifest(base_url: str) -> str:
    """The manifest with every URL under ``base_url`` (https, as Slack requires)."""
    base = base_url.rstrip("/")
    parts = urlsplit(base)
    if parts.scheme != "https" or not parts.netloc:
        raise ValueError("the base URL must be an https address, such as https://bot.example.org")
    if not _SAFE_URL.fullmatch(base) or '"' in base:
        raise ValueError("the base URL holds characters a URL cannot")
    return template().replace(PLACEHOLDER, base)


def write_manifest(base_url: str, out: Path) -> list[Path]:
    """Write the filled manifest into the folder ``out``; returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / FILENAME
    path.write_text(render_manifest(base_url), encoding="utf-8")
    return [path]

"""The Slack app manifest: filled with the base URL, the scopes Pairtime asks for, and valid
by Slack's own schema (``validate slack-manifest``, skipped without ../shared)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from adapters.slack.manifest import BOT_SCOPES, PLACEHOLDER, render_manifest, write_manifest
from tests.support import validate, validators


def section(manifest: str, key: str) -> list[str]:
    """The ``- item`` lines right under ``key:`` (comments dropped)."""
    lines = manifest.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == f"{key}:")
    items = []
    for line in lines[start + 1 :]:
        if not line.strip().startswith("- "):
            break
        items.append(line.strip()[2:].split("#")[0].strip().strip('"'))
    return items


def test_the_manifest_is_written_with_every_url_filled(tmp_path: Path):
    (path,) = write_manifest("https://bot.example.org/", tmp_path / "out")

    manifest = path.read_text()
    assert path.name == "slack-manifest.yaml"
    assert PLACEHOLDER not in manifest
    urls = re.findall(r'"(https://[^"]+)"', manifest)
    assert urls == [
        "https://bot.example.org/slack/events",
        "https://bot.example.org/slack/oauth_redirect",
        "https://bot.example.org/slack/events",
        "https://bot.example.org/slack/events",
    ]


def test_the_install_asks_for_exactly_the_manifests_scopes_each_with_a_reason():
    manifest = render_manifest("https://bot.example.org")

    assert section(manifest, "bot") == list(BOT_SCOPES)
    scope_lines = [
        line for line in manifest.splitlines() if line.strip("- ").split(" #")[0] in BOT_SCOPES
    ]
    assert all(" # " in line for line in scope_lines)
    assert section(manifest, "bot_events") == ["app_home_opened", "app_mention", "message.im"]


@pytest.mark.parametrize(
    "base", ["http://bot.example.org", "bot.example.org", 'https://bot.example.org/"x']
)
def test_only_an_https_base_url_is_accepted(base: str):
    with pytest.raises(ValueError, match="base URL"):
        render_manifest(base)


@pytest.mark.validators
def test_slacks_schema_accepts_the_written_manifest(tmp_path: Path):
    if validators() is None:
        pytest.skip("../shared/tools/validators is absent (a plain clone); .ci/run provides it")
    (path,) = write_manifest("https://bot.example.org", tmp_path)

    result = validate("slack-manifest", path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK")

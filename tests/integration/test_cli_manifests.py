"""`pairtime manifests`: both apps' manifests from one command, checked as the platforms would."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from tests.support import run_cli, validate, validators

APP_ID = "00000000-0000-4000-8000-000000000001"


def test_writes_both_manifests_with_the_urls_filled_in(tmp_path: Path):
    result = run_cli(
        [
            "manifests",
            "--base-url",
            "https://bot.example.org/",
            "--out",
            str(tmp_path),
            "--teams-app-id",
            APP_ID,
        ]
    )
    assert result.returncode == 0, result.stderr
    slack = tmp_path / "slack-manifest.yaml"
    assert "https://bot.example.org/slack/events" in slack.read_text()
    teams = json.loads((tmp_path / "teams" / "manifest.json").read_text())
    assert teams["bots"][0]["botId"] == APP_ID
    assert "bot.example.org" in teams["validDomains"]
    with zipfile.ZipFile(tmp_path / "teams" / "pairtime-teams.zip") as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
    assert result.stdout.splitlines()[0] == str(slack)

    if validators() is None:
        pytest.skip("../shared/tools/validators is absent (a plain clone); .ci/run provides it")
    checked = validate("slack-manifest", slack)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    checked = validate("teams-manifest", tmp_path / "teams" / "manifest.json")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_without_an_app_id_only_slack_is_written_and_the_reason_given(tmp_path: Path):
    result = run_cli(
        ["manifests", "--base-url", "https://bot.example.org", "--out", str(tmp_path)],
        env={"MICROSOFT_APP_ID": ""},
    )
    assert result.returncode == 0
    assert (tmp_path / "slack-manifest.yaml").exists()
    assert not (tmp_path / "teams").exists()
    assert "the Teams package was skipped" in result.stderr


def test_a_plain_http_address_is_refused(tmp_path: Path):
    result = run_cli(["manifests", "--base-url", "http://bot.example.org", "--out", str(tmp_path)])
    assert result.returncode == 2
    assert result.stderr.strip() == "pairtime manifests: --base-url must be an https URL"
    assert not any(tmp_path.iterdir())

"""Every Block Kit payload Pairtime sends, with the largest realistic data, checked the way
Slack would: ``../shared/tools/validators/validate blockkit`` (Slack's own ``@slack/types``
plus its documented limits). Skipped, with the reason, where ``../shared`` is absent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from adapters.slack import render
from core.commands import Provider
from core.program import ProgramSettings
from core.scheduling.info import help_view, settings_view
from core.views import View
from tests.adapters.slack import examples
from tests.support import validate, validators

pytestmark = pytest.mark.validators


def payloads() -> dict[str, dict[str, Any]]:
    messages: dict[str, View] = {
        "picker": examples.picker(),
        "picker-one-day": examples.picker(count=8, days=1),
        "picker-overflowing": examples.picker(count=120, days=14),
        "picker-cut": examples.picker(count=400, days=40),
        "confirmation": examples.confirmation(),
        "confirmation-cancelled": examples.confirmation(cancelled=True),
        "proposal": examples.proposal(),
        "meetings": examples.meetings(),
        "meetings-none": examples.meetings(0),
        "connect-prompt": examples.connect_prompt(),
        "status-connected": examples.status(),
        "status-reconnect": examples.status(reconnect=True),
        "help": help_view("I didn't catch what you'd like to do."),
        "rules": settings_view(ProgramSettings(), can_edit=True, available=frozenset(Provider)),
        "notice": examples.notice(),
        "question": examples.question(60),
        "poll": examples.poll(),
        "poll-draft": examples.poll_draft(),
    }
    found = {name: render.message(view) for name, view in messages.items()}
    found["failure"] = render.failure()
    found["home-admin"] = render.home(examples.home())
    found["home-member"] = render.home(examples.home(admin=False))
    found["modal"] = examples.modal()
    return found


def test_every_payload_passes_slacks_types_and_limits(tmp_path: Path):
    tool = validators()
    if tool is None:
        pytest.skip("../shared/tools/validators is absent (a plain clone); .ci/run provides it")
    files = []
    for name, payload in payloads().items():
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(payload, indent=1, ensure_ascii=False), encoding="utf-8")
        files.append(path)

    result = validate("blockkit", *files)

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("OK") == len(files), result.stdout


def test_the_validator_catches_what_slack_refuses(tmp_path: Path):
    """The check above could pass by accident; a payload over a limit must fail it."""
    if validators() is None:
        pytest.skip("../shared/tools/validators is absent (a plain clone); .ci/run provides it")
    payload = render.message(examples.picker())
    payload["blocks"] = payload["blocks"] * 5  # duplicate action ids, over 50 blocks
    path = tmp_path / "too-many.json"
    path.write_text(json.dumps(payload), encoding="utf-8")

    result = validate("blockkit", path)

    assert result.returncode == 1
    assert "blocks" in result.stdout

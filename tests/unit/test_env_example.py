"""`.env.example` documents every variable the code reads, and nothing it does not."""

from __future__ import annotations

import re

from tests.support import ROOT

VARIABLE = re.compile(r"""["']((?:PAIRTIME|SLACK|MICROSOFT|GOOGLE)_[A-Z0-9_]+)["']""")
# Variables only the test suite reads; users never set them.
TEST_ONLY = {"PAIRTIME_TEST_POSTGRES_URL", "PAIRTIME_VALIDATORS_HOME"}


def read_by_code() -> set[str]:
    names: set[str] = set()
    for folder in ("bot", "adapters", "storage", "core"):
        for path in (ROOT / folder).rglob("*.py"):
            names.update(VARIABLE.findall(path.read_text(encoding="utf-8")))
    return names - TEST_ONLY


def documented() -> set[str]:
    lines = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    return {line.split("=", 1)[0] for line in lines if re.match(r"^[A-Z][A-Z0-9_]*=", line)}


def test_every_variable_is_documented_with_a_comment():
    assert read_by_code() == documented()
    lines = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    for index, line in enumerate(lines):
        if re.match(r"^[A-Z][A-Z0-9_]*=", line):
            above = [text for text in lines[:index] if text.strip()][-1]
            assert above.startswith("#") or re.match(r"^[A-Z][A-Z0-9_]*=", above), line

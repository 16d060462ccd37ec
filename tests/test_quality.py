"""ruff and mypy are part of the test command: style and types fail the build like a test."""

from __future__ import annotations

import subprocess
import sys
import tomllib

from tests.support import ROOT


def run_tool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )


def test_ruff_lint():
    result = run_tool("ruff", "check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format():
    result = run_tool("ruff", "format", "--check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict():
    """The code and the tests (see pyproject.toml for what tests may leave unannotated)."""
    result = run_tool("mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_test_helper_is_held_to_full_annotations():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    assert "tests" in config["packages"]
    strict = {
        module
        for override in config["overrides"]
        if override.get("disallow_untyped_defs") is True
        for module in override["module"]
    }
    helpers = {
        ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for path in (ROOT / "tests").rglob("*.py")
        if not path.name.startswith("test_") and path.name != "__init__.py"
    }
    assert helpers - strict == set(), "add them to the typed helpers in pyproject.toml"
    assert strict - helpers == set(), "no such module any more"

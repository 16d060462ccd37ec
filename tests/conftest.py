"""Fixtures shared by every test folder, and how many processes a run uses."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """``-n auto`` (in pyproject's addopts): workers for the suite or a folder, none for less.

    Starting workers costs a second or two each, more than a file or a single test takes, and
    a lone test is easier to debug in this process (``-s``, ``breakpoint()``).
    ``PYTEST_XDIST_AUTO_NUM_WORKERS`` or an explicit ``-n N`` still decides.
    """
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None  # pytest-xdist's own hook reads it
    if config.args_source is not pytest.Config.ArgsSource.ARGS:
        return None  # the whole suite (testpaths): one worker per core
    here = config.invocation_params.dir
    if all("::" in arg or (here / arg).is_file() for arg in config.args):
        return 0
    return None


@pytest.fixture
def isolated_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in an empty folder, so no developer's .env or database leaks into a test."""
    monkeypatch.chdir(tmp_path)
    return tmp_path

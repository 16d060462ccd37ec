"""The suite's longest tests, which tests/conftest.py starts first, still exist by those names."""

from __future__ import annotations

import ast

import pytest

from tests.conftest import LONGEST_FIRST
from tests.support import ROOT


@pytest.mark.parametrize("start", LONGEST_FIRST)
def test_each_longest_test_named_first_exists(start: str):
    path, _, name = start.partition("::")
    module = ROOT / path
    assert module.is_file(), f"{path} is gone: update LONGEST_FIRST in tests/conftest.py"
    if name:
        tests = {
            node.name
            for node in ast.walk(ast.parse(module.read_text(encoding="utf-8")))
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        }
        assert any(t.startswith(name) for t in tests), f"no test {name}… in {path}"

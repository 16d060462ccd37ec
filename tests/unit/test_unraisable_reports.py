"""The suite's report of an exception nothing could catch names it even when its object's
``repr`` fails (tests/conftest.py)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from tests.conftest import _described_safely


class _TornDown:
    def __repr__(self) -> str:
        raise AttributeError("_sock")


def test_an_object_whose_repr_fails_is_named_by_its_type_and_the_exception_kept():
    seen: list[Any] = []
    hook = _described_safely(seen.append)
    error = ResourceWarning("unclosed transport")
    hook(
        SimpleNamespace(
            exc_type=ResourceWarning, exc_value=error, exc_traceback=None,
            err_msg="Exception ignored in", object=_TornDown(),
        )
    )  # fmt: skip
    (passed,) = seen
    assert passed.exc_value is error
    assert repr(passed.object) == "<a _TornDown whose repr raised AttributeError('_sock')>"


def test_an_object_described_as_usual_goes_on_unchanged():
    seen: list[Any] = []
    unraisable = SimpleNamespace(
        exc_type=KeyError, exc_value=KeyError("x"), exc_traceback=None,
        err_msg=None, object=object(),
    )  # fmt: skip
    _described_safely(seen.append)(unraisable)
    assert seen == [unraisable]

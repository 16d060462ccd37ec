"""The shared template environment: escaped, strict, one per package, found beside the code."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import jinja2
import pytest

from adapters import templates


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A throwaway package with a templates folder, importable for this test only."""
    root = tmp_path / "pages_for_test"
    (root / "templates").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "templates" / "hello.html").write_text("<p>Hello {{ name }}</p>\n")
    (root / "templates" / "hello.txt").write_text("Hello {{ name }}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "pages_for_test"
    templates.environment.cache_clear()
    sys.modules.pop("pages_for_test", None)


def test_html_values_are_escaped(package: str) -> None:
    html = templates.render(package, "hello.html", name="<script>alert(1)</script>")
    assert html == "<p>Hello &lt;script&gt;alert(1)&lt;/script&gt;</p>"


def test_plain_text_is_left_alone(package: str) -> None:
    assert templates.render(package, "hello.txt", name="Ana & Bo") == "Hello Ana & Bo"


def test_strings_are_escaped_too(package: str) -> None:
    page = templates.environment(package).from_string("{{ x }}")
    assert page.render(x="<b>") == "&lt;b&gt;"


def test_a_missing_value_is_an_error_not_an_empty_string(package: str) -> None:
    with pytest.raises(jinja2.UndefinedError, match="name"):
        templates.render(package, "hello.html")


def test_one_environment_per_package(package: str) -> None:
    assert templates.environment(package) is templates.environment(package)


def test_a_package_without_templates_is_told_at_once() -> None:
    with pytest.raises(ValueError, match="templates"):
        templates.environment("core")

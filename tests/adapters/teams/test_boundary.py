"""botbuilder is archived: its imports stay in adapters/teams/, so moving to the Microsoft 365
Agents SDK changes that folder only. translate.py and cards.py stay free of it altogether."""

from __future__ import annotations

from pathlib import Path

from tests.unit.test_architecture import imported_modules

ROOT = Path(__file__).resolve().parents[3]
SDK = ("botbuilder", "botframework", "msrest")


def sdk_imports(path: Path) -> set[str]:
    module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    names = imported_modules(path.read_text(encoding="utf-8"), module)
    return {name for name in names if name.split(".")[0] in SDK}


def test_no_botbuilder_import_outside_the_teams_adapter():
    outside = {
        str(path.relative_to(ROOT)): sorted(found)
        for folder in ("core", "bot", "storage", "adapters", "bench")
        for path in (ROOT / folder).rglob("*.py")
        if "teams" not in path.relative_to(ROOT).parts and (found := sdk_imports(path))
    }
    assert outside == {}


def test_the_translation_modules_use_no_botbuilder_type():
    teams = ROOT / "adapters" / "teams"
    pure = {name: sdk_imports(teams / name) for name in ("translate.py", "cards.py", "turns.py")}
    assert pure == {"translate.py": set(), "cards.py": set(), "turns.py": set()}
    assert sdk_imports(teams / "endpoint.py")  # the checker does see them where they are

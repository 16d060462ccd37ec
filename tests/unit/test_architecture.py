"""core/ stays pure: no adapters, storage or bot, and no chat, HTTP or SQL library.

Checked twice: statically (every import statement in core/, relative ones
resolved) and at run time (importing all of core/ in a fresh interpreter
must not load such a library, even through a third-party package).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "core"
FORBIDDEN = {
    # our own outer layers
    "adapters", "storage", "bot",
    # chat platforms
    "slack_bolt", "slack_sdk", "botbuilder", "botframework", "microsoft_agents",
    # HTTP clients and servers
    "aiohttp", "requests", "httpx", "niquests", "urllib3", "http", "msal", "google", "caldav",
    # SQL
    "sqlalchemy", "alembic", "asyncpg", "aiosqlite", "sqlite3", "psycopg", "psycopg2",
}  # fmt: skip
FORBIDDEN_SUBMODULES = {"urllib.request"}


def imported_modules(source: str, module: str) -> set[str]:
    """Absolute names of the modules that ``source`` (the module ``module``) imports."""
    names: set[str] = set()
    package = module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                names.add(".".join([*base, node.module] if node.module else base))
            elif node.module:
                names.add(node.module)
    return names


def violations(names: set[str]) -> set[str]:
    return {
        name
        for name in names
        if name.split(".")[0] in FORBIDDEN
        or any(name == sub or name.startswith(sub + ".") for sub in FORBIDDEN_SUBMODULES)
    }


def test_the_checker_recognises_forbidden_imports():
    source = "import aiohttp\nfrom storage.models import X\nfrom ..bot import cli\nimport json\n"
    found = violations(imported_modules(source, "core.parsing.grammar"))
    # "from ..bot import cli" inside core/parsing/ means core.bot, which is allowed.
    assert found == {"aiohttp", "storage.models"}
    assert violations({"urllib.request", "urllib.parse", "sqlite3"}) == {
        "urllib.request",
        "sqlite3",
    }


def test_core_imports_nothing_outside_itself_statically():
    problems = {}
    for path in CORE.rglob("*.py"):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        bad = violations(imported_modules(path.read_text(encoding="utf-8"), module))
        if bad:
            problems[str(path.relative_to(ROOT))] = sorted(bad)
    assert problems == {}


def test_importing_core_loads_no_forbidden_library():
    modules = sorted(
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for path in CORE.rglob("*.py")
    )
    script = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded = set(json.loads(result.stdout))
    assert len(modules) > 3
    assert violations(loaded) == set()


def test_chat_adapters_reach_storage_only_through_core_ports():
    """Chat adapters translate and render: what they read or keep goes through core's ports
    and use cases. Only Slack's installation store (bolt's own) is kept in our database."""
    allowed = {"adapters/slack/installations.py", "adapters/slack/endpoint.py"}
    chat = [ROOT / "adapters" / "chat.py"] + [
        path
        for platform in ("slack", "teams", "web")
        for path in (ROOT / "adapters" / platform).rglob("*.py")
    ]
    problems = {}
    for path in chat:
        name = str(path.relative_to(ROOT))
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        found = {
            imported
            for imported in imported_modules(path.read_text(encoding="utf-8"), module)
            if imported.split(".")[0] == "storage"
        }
        if found and name not in allowed:
            problems[name] = sorted(found)
    assert len(chat) > 20
    assert problems == {}

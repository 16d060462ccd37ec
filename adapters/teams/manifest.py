"""The Teams app package: ``manifests/teams/manifest.json`` filled in, zipped with its icons.

Teams installs an app from a zip holding ``manifest.json``, a 192x192 colour icon and a
32x32 outline icon at its root (sideloaded by a person, or uploaded by an admin).
"""

from __future__ import annotations

import json
import re
import zipfile
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from urllib.parse import urlsplit

ICONS = ("color.png", "outline.png")
PACKAGE = "pairtime-teams.zip"
_GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


def template_folder() -> Traversable:
    """``manifests/teams``: from the installed ``manifests`` package, or the source tree."""
    try:
        folder = resources.files("manifests").joinpath("teams")
        if folder.joinpath("manifest.json").is_file():
            return folder
    except ModuleNotFoundError:
        pass
    return Path(__file__).resolve().parents[2] / "manifests" / "teams"


def manifest(
    base_url: str,
    *,
    app_id: str,
    version: str = "1.0.0",
    privacy_url: str | None = None,
    terms_url: str | None = None,
) -> dict[str, object]:
    """The manifest for the bot registration ``app_id`` (MICROSOFT_APP_ID) served at
    ``base_url``; the app's id is the bot's, as Teams allows for a bot-only app."""
    if not _GUID.fullmatch(app_id):
        raise ValueError("the app id must be the Azure Bot's Microsoft App ID (a GUID)")
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("the base URL must be an http(s) URL such as https://bot.example.org")
    site = base_url.rstrip("/")
    text = template_folder().joinpath("manifest.json").read_text(encoding="utf-8")
    values = {
        "APP_ID": app_id.lower(),
        "WEBSITE_URL": site,
        "PRIVACY_URL": privacy_url or site,
        "TERMS_URL": terms_url or site,
        "DOMAIN": parts.hostname,
    }
    for name, value in values.items():
        text = text.replace(f"${{{name}}}", json.dumps(value)[1:-1])
    if "${" in text:
        raise ValueError("the manifest template has a placeholder nobody fills")
    document: dict[str, object] = json.loads(text)
    document["version"] = version
    return document


def write_manifest(
    base_url: str,
    out: Path,
    *,
    app_id: str,
    version: str = "1.0.0",
    privacy_url: str | None = None,
    terms_url: str | None = None,
) -> list[Path]:
    """Write ``manifest.json``, the two icons and the ready-to-upload zip into ``out``;
    returns their paths, the zip last."""
    document = manifest(
        base_url, app_id=app_id, version=version, privacy_url=privacy_url, terms_url=terms_url
    )
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "manifest.json"]
    written[0].write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", "utf-8")
    folder = template_folder()
    for icon in ICONS:
        target = out / icon
        target.write_bytes(folder.joinpath(icon).read_bytes())
        written.append(target)
    package = out / PACKAGE
    with zipfile.ZipFile(package, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in written:
            archive.write(path, arcname=path.name)
    return [*written, package]

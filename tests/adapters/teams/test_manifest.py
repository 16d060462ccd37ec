"""The Teams app package: a manifest Teams' schema accepts, with its icons, zipped."""

from __future__ import annotations

import json
import struct
import zipfile
import zlib
from pathlib import Path

import pytest

from adapters.teams.manifest import write_manifest
from tests.support import validate, validators

APP_ID = "3F2504E0-4F89-41D3-9A0C-0305E82C3301"


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_package_holds_the_filled_manifest_and_both_icons(tmp_path: Path):
    paths = write_manifest("https://pairtime.example.org:8443/", tmp_path, app_id=APP_ID)

    assert [p.name for p in paths] == [
        "manifest.json",
        "color.png",
        "outline.png",
        "pairtime-teams.zip",
    ]
    manifest = json.loads(paths[0].read_text())
    assert manifest["id"] == manifest["bots"][0]["botId"] == APP_ID.lower()
    assert manifest["bots"][0]["scopes"] == ["personal", "team", "groupChat"]
    assert manifest["validDomains"] == ["pairtime.example.org"]
    assert manifest["developer"]["websiteUrl"] == "https://pairtime.example.org:8443"
    commands = [
        c["title"] for lists in manifest["bots"][0]["commandLists"] for c in lists["commands"]
    ]
    assert {"find a time with my mentee", "connect my calendar", "status", "help"} <= set(commands)
    assert "${" not in paths[0].read_text()
    with zipfile.ZipFile(paths[-1]) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        assert json.loads(archive.read("manifest.json")) == manifest
        assert png_size(archive.read("color.png")) == (192, 192)
        assert png_size(archive.read("outline.png")) == (32, 32)


def test_the_outline_icon_is_white_on_transparent(tmp_path: Path):
    data = write_manifest("https://x.example", tmp_path, app_id=APP_ID)[2].read_bytes()
    assert data[25] == 6  # colour type RGBA
    chunks, offset = b"", 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        if data[offset + 4 : offset + 8] == b"IDAT":
            chunks += data[offset + 8 : offset + 8 + length]
        offset += 12 + length
    raw = zlib.decompress(chunks)
    pixels = [raw[row * 129 + 1 : (row + 1) * 129] for row in range(32)]
    colours = {tuple(line[i : i + 3]) for line in pixels for i in range(0, 128, 4) if line[i + 3]}
    alphas = {line[i + 3] for line in pixels for i in range(0, 128, 4)}
    assert colours == {(255, 255, 255)}
    assert 0 in alphas  # transparent background
    assert 255 in alphas


@pytest.mark.parametrize(
    ("base_url", "app_id"),
    [("https://x.example", "not-a-guid"), ("bot.example.org", APP_ID)],
)
def test_bad_input_is_refused(tmp_path: Path, base_url: str, app_id: str):
    with pytest.raises(ValueError, match="must be"):
        write_manifest(base_url, tmp_path, app_id=app_id)


@pytest.mark.validators
def test_teams_schema_accepts_the_written_manifest(tmp_path: Path):
    if validators() is None:
        pytest.skip("../shared/tools/validators is absent (a plain clone)")
    paths = write_manifest("https://pairtime.example.org", tmp_path, app_id=APP_ID)

    result = validate("teams-manifest", paths[0])

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK")

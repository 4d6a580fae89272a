"""The Teams app package: a manifest Teams accepts for this bot, its icons, the packaging script."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import zipfile
from pathlib import Path

from handlers.commands.grammar import SUBCOMMANDS

ROOT = Path(__file__).resolve().parent.parent
TEAMS = ROOT / "deploy" / "teams"


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def test_the_manifest_describes_a_bot_for_teams_and_personal_chats() -> None:
    manifest = json.loads((TEAMS / "manifest.json").read_text())
    [bot] = manifest["bots"]
    assert bot["botId"] == manifest["id"] == "${TEAMS_APP_ID}"
    assert set(bot["scopes"]) == {"team", "personal"}
    commands = [c["title"] for c in bot["commandLists"][0]["commands"]]
    assert len(commands) <= 10, "Teams lists at most 10 commands"
    assert commands[0] == "status"
    for title in commands:
        name, _, sub = title.partition(" ")
        assert name in ("status", "incident")
        assert not sub or name == "status" or sub in SUBCOMMANDS, title
    assert _png_size(TEAMS / manifest["icons"]["color"]) == (192, 192)
    assert _png_size(TEAMS / manifest["icons"]["outline"]) == (32, 32)


def test_the_package_script_fills_in_the_app_id(tmp_path: Path) -> None:
    out = tmp_path / "statusbot-teams.zip"
    app_id = "11111111-2222-3333-4444-555555555555"
    env = {
        **os.environ,
        "TEAMS_APP_ID": app_id,
        "STATUSBOT_PUBLIC_URL": "https://status.example.com",
    }
    subprocess.run(
        [str(ROOT / "scripts" / "teams-app"), str(out)], check=True, env=env, capture_output=True
    )
    with zipfile.ZipFile(out) as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(package.read("manifest.json"))
    assert manifest["id"] == manifest["bots"][0]["botId"] == app_id
    assert manifest["developer"]["websiteUrl"] == "https://status.example.com"

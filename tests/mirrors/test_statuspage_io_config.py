"""The `statuspage_io` config section and STATUSPAGE_API_KEY: mistakes with their key paths,
and a clear warning when only one half of the mirror is set up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.config import ConfigError
from tests.acceptance.test_cli import statusbot
from tests.support.builders import TEMPLATES, make_config


def problems(section: Any) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        make_config(statuspage_io=section)
    return [str(issue) for issue in caught.value.issues]


def test_the_section_loads() -> None:
    config = make_config(statuspage_io={"page_id": "abc123", "components": {"web": "cmp_web_id"}})
    assert config.statuspage_io is not None
    assert config.statuspage_io.page_id == "abc123"
    assert config.statuspage_io.components == {"web": "cmp_web_id"}
    assert make_config().statuspage_io is None


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        (
            {"page_id": "abc123", "components": {"web": "cmp_web", "phone": "cmp_phone"}},
            "<test>: statuspage_io.components.phone: unknown component 'phone'; "
            "expected one of web, app",
        ),
        (
            {"components": {"web": "cmp_web"}},
            "<test>: statuspage_io.page_id: required key is missing",
        ),
        (
            {"page_id": "abc123", "page": "x"},
            "<test>: statuspage_io.page: unknown key",
        ),
        (
            {"page_id": "abc/../123"},
            "<test>: statuspage_io.page_id: 'abc/../123' is not a Statuspage ID "
            "(letters, digits, '-' and '_')",
        ),
        (
            {"page_id": "abc123", "components": {"web": "cmp web"}},
            "<test>: statuspage_io.components.web: 'cmp web' is not a Statuspage ID",
        ),
    ],
)
def test_mistakes_name_their_key_path(section: Any, expected: str) -> None:
    found = problems(section)
    assert any(p.startswith(expected) for p in found), found


def write_config(tmp_path: Path, section: str = "") -> Path:
    config = tmp_path / "statusbot.yaml"
    config.write_text(
        f"components: [{{id: web, name: Web}}]\nstatements: {{templates: {TEMPLATES}}}\n" + section
    )
    return config


async def test_validate_warns_when_only_the_config_section_is_there(tmp_path: Path) -> None:
    config = write_config(tmp_path, "statuspage_io: {page_id: abc123, components: {web: c1}}\n")
    code, out, err = await statusbot("validate", "--config", str(config), cwd=tmp_path)
    assert code == 0, err
    assert "OK" in out
    assert (
        "statusbot: warning: statuspage.io: the config has a statuspage_io section but "
        "STATUSPAGE_API_KEY is not set: nothing is mirrored to that page"
    ) in err.splitlines()


async def test_validate_warns_when_only_the_key_is_there(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    code, _, err = await statusbot(
        "validate", "--config", str(config), cwd=tmp_path, STATUSPAGE_API_KEY="sp-secret-key"
    )
    assert code == 0, err
    assert (
        "statusbot: warning: statuspage.io: STATUSPAGE_API_KEY is set but the config has no "
        "statuspage_io section (page_id, components): nothing is mirrored"
    ) in err.splitlines()
    assert "sp-secret-key" not in err


async def test_validate_says_nothing_when_both_or_neither_are_there(tmp_path: Path) -> None:
    config = write_config(tmp_path, "statuspage_io: {page_id: abc123}\n")
    code, _, err = await statusbot(
        "validate", "--config", str(config), cwd=tmp_path, STATUSPAGE_API_KEY="sp-secret-key"
    )
    assert code == 0, err
    assert "statuspage" not in err
    code, _, err = await statusbot(
        "validate", "--config", str(write_config(tmp_path)), cwd=tmp_path
    )
    assert code == 0, err
    assert "statuspage" not in err

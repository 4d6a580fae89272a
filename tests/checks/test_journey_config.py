"""Journey placeholders in the config: every `{name}` a step sends must be extracted by an
earlier step (or be `{totp}` with a totp_secret); mistakes come with the key path, in one round."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.config import ConfigError, JourneyCheck, parse_config
from tests.acceptance.test_cli import statusbot
from tests.support.builders import TEMPLATES

SECRET = "JBSWY3DPEHPK3PXP"


def login(steps: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    return {
        "components": [{"id": "web", "name": "Web"}, {"id": "mfa", "name": "MFA"}],
        "checks": [
            {"id": "web-home", "component": "web", "type": "http", "url": "https://x.test/"},
            {"id": "login-2fa", "component": "mfa", "type": "journey", "steps": steps, **fields},
        ],
    }


FORM = {"name": "form", "url": "https://x.test/login", "extract": {"csrf": "[BODY].csrf"}}
PASSWORD = {
    "name": "password",
    "method": "POST",
    "url": "https://x.test/login",
    "form": {"user": "probe", "csrf": "{csrf}"},
}
CODE = {"name": "code", "method": "POST", "url": "https://x.test/mfa", "form": {"code": "{totp}"}}


def errors(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, "statusbot.yaml")
    return [str(issue) for issue in caught.value.issues]


def test_a_journey_using_what_earlier_steps_extract_loads() -> None:
    config = parse_config(login([FORM, PASSWORD, CODE], totp_secret=SECRET))

    check = config.checks[1]
    assert isinstance(check, JourneyCheck)
    assert check.steps[0].extract == {"csrf": "[BODY].csrf"}
    assert check.totp_secret is not None and SECRET not in repr(check)


def test_an_unknown_name_is_an_error_naming_check_step_and_key_path() -> None:
    assert errors(login([PASSWORD])) == [
        "statusbot.yaml: checks[1].steps[0].form.csrf: step 1 (password) of login-2fa uses "
        "{csrf}, which no earlier step extracts; write {{csrf}} to send the braces as they are"
    ]


def test_a_name_used_before_the_step_that_extracts_it_is_an_error() -> None:
    assert errors(login([PASSWORD, FORM])) == [
        "statusbot.yaml: checks[1].steps[0].form.csrf: step 1 (password) of login-2fa uses "
        "{csrf} before step 2 (form) extracts it"
    ]


def test_a_step_cannot_send_what_it_extracts_from_its_own_response() -> None:
    step = {**FORM, "headers": {"X-CSRF-Token": "{csrf}"}}
    assert errors(login([step])) == [
        "statusbot.yaml: checks[1].steps[0].headers.X-CSRF-Token: step 1 (form) of login-2fa "
        "uses {csrf}, which it extracts from its own response; extract it at an earlier step"
    ]


def test_totp_without_a_secret_is_an_error() -> None:
    assert errors(login([FORM, PASSWORD, CODE])) == [
        "statusbot.yaml: checks[1].steps[2].form.code: step 3 (code) of login-2fa uses {totp}, "
        "but the check has no totp_secret"
    ]


@pytest.mark.parametrize(
    ("secret", "reason"),
    [
        (
            "JBSWY3DPEHPK3PX1",
            "is not valid base32 (letters A-Z and digits 2-7, as the site showed it)",
        ),
        (
            "not a secret!",
            "is not valid base32 (letters A-Z and digits 2-7, as the site showed it)",
        ),
        ("", "is empty; expected the base32 secret the site showed when two-step was set up"),
    ],
)
def test_a_totp_secret_that_is_not_base32_is_an_error_that_never_shows_it(
    secret: str, reason: str
) -> None:
    found = errors(login([FORM, PASSWORD, CODE], totp_secret=secret))

    assert found == [f"statusbot.yaml: checks[1].totp_secret: {reason}"]
    assert not secret or secret not in found[0]


def test_secrets_as_authenticator_apps_show_them_are_accepted() -> None:
    # Grouped, lower case, unpadded, and 80 bits long as many sites still issue them.
    parse_config(login([FORM, PASSWORD, CODE], totp_secret="jbsw y3dp ehpk 3pxp"))


def test_extract_mistakes_name_the_value() -> None:
    extract = {
        "csrf": "[STATUS]",
        "totp": "[BODY].code",
        "two words": "[BODY]",
        "token": "[BODY] =~ value=(",
        "items": "[BODY].items[x]",
    }
    assert errors(login([{**FORM, "extract": extract}])) == [
        "statusbot.yaml: checks[1].steps[0].extract.csrf: '[STATUS]' is not a value to extract; "
        """write [BODY].csrf, [HEADER].X-CSRF-Token or [BODY] =~ name="csrf" value="([^"]+)\"""",
        "statusbot.yaml: checks[1].steps[0].extract.totp: totp is the current one-time code; "
        "give the extracted value another name",
        "statusbot.yaml: checks[1].steps[0].extract.two words: 'two words' cannot be used as "
        "{name}; use letters, digits and _, starting with a letter, e.g. csrf",
        "statusbot.yaml: checks[1].steps[0].extract.token: invalid regular expression after =~: "
        "missing ), unterminated subpattern at position 6",
        "statusbot.yaml: checks[1].steps[0].extract.items: array index [x] must be a whole "
        "number, e.g. [BODY].items[0]",
    ]


def test_braces_that_are_not_placeholders_are_not_checked() -> None:
    step = {
        "name": "api",
        "method": "POST",
        "url": "https://x.test/api",
        "body": '{"user": {"name": "probe"}, "template": "{{csrf}}", "note": "{not one}"}',
    }
    parse_config(login([step, {**step, "body": None, "json": {"a": {"b": "{{totp}}"}}}]))


def test_placeholder_mistakes_come_with_every_other_mistake_in_one_round() -> None:
    raw = login([PASSWORD, CODE], totp_secret="1234", interval="5 minutes")
    raw["checks"][0]["component"] = "webb"

    assert errors(raw) == [
        "statusbot.yaml: checks[1].interval: '5 minutes' is not a duration; write it like 30s, "
        "5m, 2h or 1d",
        "statusbot.yaml: checks[1].totp_secret: is not valid base32 (letters A-Z and digits 2-7, "
        "as the site showed it)",
        "statusbot.yaml: checks[0].component: unknown component 'webb'; expected one of web, mfa",
        "statusbot.yaml: checks[1].steps[0].form.csrf: step 1 (password) of login-2fa uses "
        "{csrf}, which no earlier step extracts; write {{csrf}} to send the braces as they are",
    ]


async def test_statusbot_validate_lists_placeholder_mistakes_one_line_each(tmp_path: Path) -> None:
    raw = login([PASSWORD, CODE])
    raw["statements"] = {"templates": str(TEMPLATES)}
    config = tmp_path / "statusbot.yaml"
    config.write_text(yaml.safe_dump(raw))

    code, _, err = await statusbot("validate", "--config", str(config), cwd=tmp_path)

    assert code == 1
    assert "Traceback" not in err
    assert err.splitlines() == [
        "statusbot: 2 problem(s) in the config:",
        f"  {config}: checks[1].steps[0].form.csrf: step 1 (password) of login-2fa uses {{csrf}}, "
        "which no earlier step extracts; write {{csrf}} to send the braces as they are",
        f"  {config}: checks[1].steps[1].form.code: step 2 (code) of login-2fa uses {{totp}}, "
        "but the check has no totp_secret",
    ]


def test_a_secret_from_an_unset_variable_is_one_problem_not_two() -> None:
    raw = login([FORM, PASSWORD, CODE], totp_secret="${PROBE_TOTP_SECRET}")
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, "statusbot.yaml", environ={})

    assert [str(issue) for issue in caught.value.issues] == [
        "statusbot.yaml: checks[1].totp_secret: environment variable PROBE_TOTP_SECRET is not set"
    ]

"""The pieces of a login journey on their own: `{name}` and its escape, extraction, masking."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.monitoring.checks.extraction import NotExtracted, parse_extraction
from bot.monitoring.checks.masking import Secrets
from bot.monitoring.checks.placeholders import escape, fill, fill_json, names_in
from bot.monitoring.checks.result import Observation
from bot.monitoring.checks.totp import current_code

VALUES = {"csrf": "T0KEN", "totp": "123456"}


@pytest.mark.parametrize(
    ("template", "sent"),
    [
        ("{csrf}", "T0KEN"),
        ("/mfa?code={totp}&c={csrf}", "/mfa?code=123456&c=T0KEN"),
        ("{{csrf}}", "{csrf}"),
        ("{{{csrf}}}", "{{csrf}}"),
        ('{"user": {"name": "probe"}}', '{"user": {"name": "probe"}}'),
        ('{"a":{"b":"{csrf}"}}', '{"a":{"b":"T0KEN"}}'),
        ("{not a name} {1x} {}", "{not a name} {1x} {}"),
    ],
)
def test_fill(template: str, sent: str) -> None:
    assert fill(template, VALUES) == sent


@pytest.mark.parametrize("text", ["pa{ss}word", "{{x}}", "{{{y}}}", "{z}}", "{{w}", "{}{", "plain"])
def test_escaped_text_is_sent_as_it_was(text: str) -> None:
    assert names_in(escape(text)) == []
    assert fill(escape(text), VALUES) == text


def test_names_in_and_json_values() -> None:
    assert names_in("{csrf} {{literal}} {totp} {csrf}") == ["csrf", "totp"]
    assert fill_json({"k{csrf}": ["{csrf}", 1, None]}, VALUES) == {"k{csrf}": ["T0KEN", 1, None]}


@pytest.mark.parametrize(
    ("extraction", "value"),
    [
        ("[BODY].csrf", "abc"),
        ("[BODY].data.items[1].id", "7"),
        ("[BODY].data", '{"items":[{"id":6},{"id":7}]}'),
        ("[HEADER].x-csrf-token", "from-header"),
        ("[HEADER].X-CSRF-Token =~ ^from-(\\w+)$", "header"),
        ("[BODY].csrf =~ b", "b"),
        ('[BODY] =~ "csrf": "(\\w+)"', "abc"),
    ],
)
def test_extraction_reads_body_paths_headers_and_regexes(extraction: str, value: str) -> None:
    observation = Observation(
        body='{"csrf": "abc", "data": {"items": [{"id": 6}, {"id": 7}]}}',
        headers={"X-CSRF-Token": "from-header"},
    )
    assert parse_extraction(extraction).read(observation) == value


@pytest.mark.parametrize(
    ("extraction", "body", "why"),
    [
        ("[BODY].csrf", "<html>", "body is not JSON"),
        ("[BODY].csrf", '{"token": 1}', 'no key "csrf"'),
        ("[BODY].csrf", '{"csrf": ""}', "empty"),
        ("[BODY].csrf", '{"csrf": null}', "null"),
        ("[HEADER].X-Token", "", "no X-Token header"),
        ("[BODY] =~ csrf=(\\w+)", "nothing here", "no match"),
    ],
)
def test_extraction_says_why_nothing_was_found(extraction: str, body: str, why: str) -> None:
    with pytest.raises(NotExtracted, match=f"^{why}$"):
        parse_extraction(extraction).read(Observation(body=body, headers={}))


def test_secrets_are_masked_as_sent_and_url_encoded() -> None:
    secrets = Secrets()
    assert secrets.mask("nothing to hide") == "nothing to hide"
    secrets.add("a+b/c=")
    secrets.add("123456")

    text = "GET /x?t=a%2Bb%2Fc%3D&code=123456 and a+b/c= and a%2Bb/c%3D"

    assert secrets.mask(text) == "GET /x?t=•••&code=••• and ••• and •••"


def test_a_masked_body_is_masked_before_a_condition_shortens_it() -> None:
    secrets = Secrets()
    token = "x" * 40 + "SECRET-TAIL"
    secrets.add(token)
    body = "y" * 30 + token

    shown = secrets.mask_observation(Observation(body=body)).body

    assert shown == "y" * 30 + "•••"


def test_totp_codes_follow_rfc_6238() -> None:
    # RFC 6238's test secret ("12345678901234567890") and its SHA-1 vector at 59 s: 94287082;
    # six digits are its last six.
    secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    assert current_code(secret, datetime.fromtimestamp(59, UTC)) == "287082"
    assert current_code(secret, datetime.fromtimestamp(1111111109, UTC)) == "081804"

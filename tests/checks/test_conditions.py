"""The Gatus condition language: every placeholder, operator and function, and invalid input."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from bot.monitoring.checks.conditions import (
    ConditionSyntaxError,
    evaluate_conditions,
    parse_condition,
    uses_body,
)
from bot.monitoring.checks.result import Observation

BODY = json.dumps(
    {
        "status": "UP",
        "version": "2.4.1",
        "count": 3,
        "ratio": 0.25,
        "ready": True,
        "note": None,
        "empty": "",
        "numeric_text": "42",
        "data": {"items": [{"name": "web", "up": True}, {"name": "db", "up": False}]},
        "tags": ["eu", "us"],
    }
)

HTTP = Observation(
    status=200,
    response_time=timedelta(milliseconds=412.6),
    body=BODY,
    ip="10.1.2.3",
)
DOWN = Observation(status=503, response_time=timedelta(milliseconds=2412), body="<h1>Down</h1>")
TCP = Observation(connected=True, response_time=timedelta(milliseconds=3), ip="127.0.0.1")
TLS = Observation(connected=True, certificate_expiration=timedelta(hours=71, seconds=59))
ARRAY = Observation(status=200, body='[{"id": 1, "state": "ok"}, {"id": 2, "state": "bad"}]')
DNS = Observation(
    connected=True,
    response_time=timedelta(milliseconds=4),
    dns_rcode="NOERROR",
    answers=("10.0.0.1", "10.0.0.2"),
    body="10.0.0.1\n10.0.0.2",
)
NXDOMAIN = Observation(connected=True, dns_rcode="NXDOMAIN", answers=(), body="")


@pytest.mark.parametrize(
    ("condition", "observation", "success", "description"),
    [
        # [STATUS] with every operator
        ("[STATUS] == 200", HTTP, True, "[STATUS] (200) == 200"),
        ("[STATUS] == 200", DOWN, False, "[STATUS] (503) == 200"),
        ("[STATUS] != 200", DOWN, True, "[STATUS] (503) != 200"),
        ("[STATUS] != 200", HTTP, False, "[STATUS] (200) != 200"),
        ("[STATUS] < 400", HTTP, True, "[STATUS] (200) < 400"),
        ("[STATUS] < 400", DOWN, False, "[STATUS] (503) < 400"),
        ("[STATUS] <= 200", HTTP, True, "[STATUS] (200) <= 200"),
        ("[STATUS] <= 199", HTTP, False, "[STATUS] (200) <= 199"),
        ("[STATUS] > 199", HTTP, True, "[STATUS] (200) > 199"),
        ("[STATUS] > 200", HTTP, False, "[STATUS] (200) > 200"),
        ("[STATUS] >= 500", DOWN, True, "[STATUS] (503) >= 500"),
        ("[STATUS] >= 500", HTTP, False, "[STATUS] (200) >= 500"),
        ("[STATUS]==200", HTTP, True, "[STATUS] (200) == 200"),
        ("[status] == 200", HTTP, True, "[status] (200) == 200"),
        ("200 == [STATUS]", HTTP, True, "200 == [STATUS] (200)"),
        ('[STATUS] == "200"', HTTP, True, '[STATUS] (200) == "200"'),
        # [RESPONSE_TIME] in whole milliseconds, against numbers or durations
        ("[RESPONSE_TIME] < 2000", HTTP, True, "[RESPONSE_TIME] (412) < 2000"),
        ("[RESPONSE_TIME] < 2000", DOWN, False, "[RESPONSE_TIME] (2412) < 2000"),
        ("[RESPONSE_TIME] < 2s", DOWN, False, "[RESPONSE_TIME] (2412) < 2s"),
        ("[RESPONSE_TIME] <= 500ms", HTTP, True, "[RESPONSE_TIME] (412) <= 500ms"),
        # [BODY] as a whole, and JSON paths into it
        ("[BODY] == <h1>Down</h1>", DOWN, True, "[BODY] (<h1>Down</h1>) == <h1>Down</h1>"),
        ("[BODY].status == UP", HTTP, True, "[BODY].status (UP) == UP"),
        ("[BODY].status == DOWN", HTTP, False, "[BODY].status (UP) == DOWN"),
        ("[BODY].count == 3", HTTP, True, "[BODY].count (3) == 3"),
        ("[BODY].count == 3.0", HTTP, True, "[BODY].count (3) == 3.0"),
        ("[BODY].count > 10", HTTP, False, "[BODY].count (3) > 10"),
        ("[BODY].ratio < 0.5", HTTP, True, "[BODY].ratio (0.25) < 0.5"),
        ("[BODY].numeric_text > 9", HTTP, True, "[BODY].numeric_text (42) > 9"),
        ("[BODY].version == 2.4.1", HTTP, True, "[BODY].version (2.4.1) == 2.4.1"),
        ("[BODY].version < 2.5.0", HTTP, True, "[BODY].version (2.4.1) < 2.5.0"),
        ("[BODY].ready == true", HTTP, True, "[BODY].ready (true) == true"),
        ("[BODY].ready == True", HTTP, True, "[BODY].ready (true) == True"),
        ("[BODY].note == null", HTTP, True, "[BODY].note (null) == null"),
        ('[BODY].empty == ""', HTTP, True, '[BODY].empty () == ""'),
        ("[BODY].data.items[1].name == db", HTTP, True, "[BODY].data.items[1].name (db) == db"),
        (
            "[BODY].data.items[0].up == false",
            HTTP,
            False,
            "[BODY].data.items[0].up (true) == false",
        ),
        ('[BODY].tags == ["eu","us"]', HTTP, True, '[BODY].tags (["eu","us"]) == ["eu","us"]'),
        ("[BODY][1].state == ok", ARRAY, False, "[BODY][1].state (bad) == ok"),
        ("[BODY][0].id == 1", ARRAY, True, "[BODY][0].id (1) == 1"),
        ('[BODY].status == "UP"', HTTP, True, '[BODY].status (UP) == "UP"'),
        ("[BODY].status == all good", HTTP, False, "[BODY].status (UP) == all good"),
        # a missing path fails, saying what is missing
        ("[BODY].health == UP", HTTP, False, '[BODY].health (no key "health") == UP'),
        ("[BODY].health != UP", HTTP, False, '[BODY].health (no key "health") != UP'),
        (
            "[BODY].data.total > 0",
            HTTP,
            False,
            '[BODY].data.total (no key "total" in [BODY].data) > 0',
        ),
        (
            "[BODY].data.items[5].name == web",
            HTTP,
            False,
            "[BODY].data.items[5].name ([BODY].data.items has 2 elements) == web",
        ),
        (
            "[BODY].status.code == 1",
            HTTP,
            False,
            "[BODY].status.code ([BODY].status is a string, not an object) == 1",
        ),
        ("[BODY][0] == 1", HTTP, False, "[BODY][0] ([BODY] is an object, not an array) == 1"),
        ("[BODY].status == UP", DOWN, False, "[BODY].status (body is not JSON) == UP"),
        # [CONNECTED]
        ("[CONNECTED] == true", TCP, True, "[CONNECTED] (true) == true"),
        ("[CONNECTED] == false", TCP, False, "[CONNECTED] (true) == false"),
        # [CERTIFICATE_EXPIRATION] against durations (h, d) or plain milliseconds
        (
            "[CERTIFICATE_EXPIRATION] > 336h",
            TLS,
            False,
            "[CERTIFICATE_EXPIRATION] (71h) > 336h",
        ),
        ("[CERTIFICATE_EXPIRATION] > 48h", TLS, True, "[CERTIFICATE_EXPIRATION] (71h) > 48h"),
        ("[CERTIFICATE_EXPIRATION] < 7d", TLS, True, "[CERTIFICATE_EXPIRATION] (71h) < 7d"),
        (
            "[CERTIFICATE_EXPIRATION] > 86400000",
            TLS,
            True,
            "[CERTIFICATE_EXPIRATION] (71h) > 86400000",
        ),
        # [IP]
        ("[IP] == 10.1.2.3", HTTP, True, "[IP] (10.1.2.3) == 10.1.2.3"),
        ("[IP] == pat(10.*)", HTTP, True, "[IP] (10.1.2.3) == pat(10.*)"),
        ("[IP] != pat(192.168.*)", HTTP, True, "[IP] (10.1.2.3) != pat(192.168.*)"),
        # len()
        ("len([BODY].data.items) == 2", HTTP, True, "len([BODY].data.items) (2) == 2"),
        ("len([BODY].status) == 2", HTTP, True, "len([BODY].status) (2) == 2"),
        ("len([BODY].data) == 1", HTTP, True, "len([BODY].data) (1) == 1"),
        ("len([BODY]) == 2", ARRAY, True, "len([BODY]) (2) == 2"),
        ("len([BODY]) > 100", DOWN, False, "len([BODY]) (13) > 100"),
        ("len([BODY].tags) < 1", HTTP, False, "len([BODY].tags) (2) < 1"),
        ("len([BODY].missing) > 0", HTTP, False, 'len([BODY].missing) (no key "missing") > 0'),
        # has()
        ("has([BODY].status) == true", HTTP, True, "has([BODY].status) (true) == true"),
        ("has([BODY].errors) == false", HTTP, True, "has([BODY].errors) (false) == false"),
        ("has([BODY].errors) == true", HTTP, False, "has([BODY].errors) (false) == true"),
        ("has([BODY].empty) == true", HTTP, True, "has([BODY].empty) (true) == true"),
        ("has([BODY].status) == true", DOWN, False, "has([BODY].status) (false) == true"),
        ("has([BODY]) == true", DOWN, True, "has([BODY]) (true) == true"),
        ("has([IP]) == false", DOWN, True, "has([IP]) (false) == false"),
        # pat()
        ("[BODY] == pat(*Down*)", DOWN, True, "[BODY] (<h1>Down</h1>) == pat(*Down*)"),
        ("[BODY] == pat(<h1>*)", DOWN, True, "[BODY] (<h1>Down</h1>) == pat(<h1>*)"),
        ("[BODY] == pat(*Balance*)", DOWN, False, "[BODY] (<h1>Down</h1>) == pat(*Balance*)"),
        ("[BODY] != pat(*Down*)", DOWN, False, "[BODY] (<h1>Down</h1>) != pat(*Down*)"),
        ("[BODY].status == pat(U*)", HTTP, True, "[BODY].status (UP) == pat(U*)"),
        ("[BODY].status == pat(U)", HTTP, False, "[BODY].status (UP) == pat(U)"),
        ("[BODY].version == pat(2.*.*)", HTTP, True, "[BODY].version (2.4.1) == pat(2.*.*)"),
        ("[BODY].version == pat(*.4.*)", HTTP, True, "[BODY].version (2.4.1) == pat(*.4.*)"),
        ("[BODY].version == pat(*1*1*1*)", HTTP, False, "[BODY].version (2.4.1) == pat(*1*1*1*)"),
        ("[BODY].status == pat(*)", HTTP, True, "[BODY].status (UP) == pat(*)"),
        # any()
        ("[STATUS] == any(200, 201, 204)", HTTP, True, "[STATUS] (200) == any(200, 201, 204)"),
        ("[STATUS] == any(200, 201, 204)", DOWN, False, "[STATUS] (503) == any(200, 201, 204)"),
        ("[STATUS] != any(500, 503)", DOWN, False, "[STATUS] (503) != any(500, 503)"),
        ("[BODY].status == any(UP, OK)", HTTP, True, "[BODY].status (UP) == any(UP, OK)"),
        # a placeholder the probe did not observe fails, saying so
        ("[STATUS] == 200", TCP, False, "[STATUS] (not observed) == 200"),
        ("[STATUS] != 200", TCP, False, "[STATUS] (not observed) != 200"),
        ("[BODY].status == UP", TCP, False, "[BODY].status (not observed) == UP"),
        ("[CONNECTED] == true", HTTP, False, "[CONNECTED] (not observed) == true"),
        (
            "[CERTIFICATE_EXPIRATION] > 336h",
            HTTP,
            False,
            "[CERTIFICATE_EXPIRATION] (not observed) > 336h",
        ),
        ("[IP] == pat(10.*)", TLS, False, "[IP] (not observed) == pat(10.*)"),
        ("len([BODY]) > 0", TCP, False, "len([BODY]) (not observed) > 0"),
        # [DNS_RCODE], like [CERTIFICATE_EXPIRATION], is only observed by its own kind of check
        ("[DNS_RCODE] == NOERROR", DNS, True, "[DNS_RCODE] (NOERROR) == NOERROR"),
        ("[DNS_RCODE] == NOERROR", NXDOMAIN, False, "[DNS_RCODE] (NXDOMAIN) == NOERROR"),
        ("[dns_rcode] != NOERROR", NXDOMAIN, True, "[dns_rcode] (NXDOMAIN) != NOERROR"),
        (
            "[DNS_RCODE] == any(NOERROR, NXDOMAIN)",
            NXDOMAIN,
            True,
            "[DNS_RCODE] (NXDOMAIN) == any(NOERROR, NXDOMAIN)",
        ),
        ("[DNS_RCODE] == NOERROR", HTTP, False, "[DNS_RCODE] (not observed) == NOERROR"),
        ("[CONNECTED] == true", DNS, True, "[CONNECTED] (true) == true"),
        # a dns check's [BODY]: == holds when one answer is equal, != when none is
        ("[BODY] == 10.0.0.2", DNS, True, "[BODY] (10.0.0.1, 10.0.0.2) == 10.0.0.2"),
        ("[BODY] == 10.0.0.3", DNS, False, "[BODY] (10.0.0.1, 10.0.0.2) == 10.0.0.3"),
        ("[BODY] != 10.0.0.2", DNS, False, "[BODY] (10.0.0.1, 10.0.0.2) != 10.0.0.2"),
        ("[BODY] != 10.0.0.3", DNS, True, "[BODY] (10.0.0.1, 10.0.0.2) != 10.0.0.3"),
        ("[BODY] == pat(10.0.*)", DNS, True, "[BODY] (10.0.0.1, 10.0.0.2) == pat(10.0.*)"),
        (
            "[BODY] != any(10.0.0.1, 10.9.9.9)",
            DNS,
            False,
            "[BODY] (10.0.0.1, 10.0.0.2) != any(10.0.0.1, 10.9.9.9)",
        ),
        ("10.0.0.1 == [BODY]", DNS, True, "10.0.0.1 == [BODY] (10.0.0.1, 10.0.0.2)"),
        ("len([BODY]) == 2", DNS, True, "len([BODY]) (2) == 2"),
        ("[BODY] == 10.0.0.1", NXDOMAIN, False, "[BODY] (no answer) == 10.0.0.1"),
        ("[BODY] != 10.0.0.1", NXDOMAIN, True, "[BODY] (no answer) != 10.0.0.1"),
        ("len([BODY]) == 0", NXDOMAIN, True, "len([BODY]) (0) == 0"),
        ("has([BODY]) == false", NXDOMAIN, True, "has([BODY]) (false) == false"),
        ("has([BODY]) == true", DNS, True, "has([BODY]) (true) == true"),
    ],
)
def test_condition(
    condition: str, observation: Observation, success: bool, description: str
) -> None:
    result = parse_condition(condition).evaluate(observation)

    assert (result.success, result.description) == (success, description)
    assert result.condition == condition


@pytest.mark.parametrize(
    ("remaining", "shown"),
    [
        (timedelta(days=30), "720h"),
        (timedelta(hours=47, minutes=59, seconds=59), "47h59m"),
        (timedelta(minutes=5, seconds=30), "5m30s"),
        (timedelta(seconds=9), "9s"),
        (-timedelta(hours=5), "-5h"),
    ],
)
def test_certificate_expiration_is_shown_as_a_duration(remaining: timedelta, shown: str) -> None:
    observation = Observation(certificate_expiration=remaining)

    result = parse_condition("[CERTIFICATE_EXPIRATION] > 336h").evaluate(observation)

    assert result.description == f"[CERTIFICATE_EXPIRATION] ({shown}) > 336h"


def test_long_body_is_shortened_to_one_line_in_the_description() -> None:
    page = "<html>\n  <body>\n" + "x" * 10_000 + "\n</body></html>"

    result = parse_condition("[BODY] == pat(*Balance*)").evaluate(Observation(body=page))

    assert not result.success
    assert result.description == (
        "[BODY] (<html> <body> xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...) == pat(*Balance*)"
    )


def test_conditions_are_parsed_once() -> None:
    assert parse_condition("[STATUS] == 200") is parse_condition("[STATUS] == 200")


def test_evaluate_conditions_keeps_the_order() -> None:
    results = evaluate_conditions(["[STATUS] == 200", "[BODY].status == UP"], DOWN)

    assert [result.description for result in results] == [
        "[STATUS] (503) == 200",
        "[BODY].status (body is not JSON) == UP",
    ]


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        (["[STATUS] == 200", "[RESPONSE_TIME] < 500"], False),
        (["[STATUS] == 200", "[BODY].status == UP"], True),
        (["len([BODY]) > 0"], True),
        (["has([BODY].errors) == false"], True),
        (["[BODY] == pat(*ok*)"], True),
        ([], False),
    ],
)
def test_uses_body(conditions: list[str], expected: bool) -> None:
    assert uses_body(conditions) is expected


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("", "the condition is empty"),
        ("   ", "the condition is empty"),
        ("[STATUS]", "no comparison operator; use one of ==, !=, <, <=, >, >="),
        ("[STATUS] 200", "no comparison operator"),
        ("[STATUS] = 200", "a single = is not an operator; write =="),
        ("[STATUS] => 200", "=> is not an operator; write >="),
        ("[STATUS] =< 200", "=< is not an operator; write <="),
        ("== 200", "nothing on the left of =="),
        ("[STATUS] ==", "nothing on the right of =="),
        ("[STATUS] == 200 == 300", "only one comparison per condition"),
        ("[STATUSCODE] == 200", "unknown placeholder [STATUSCODE] (did you mean [STATUS]?)"),
        ("[BDY].status == UP", "unknown placeholder [BDY] (did you mean [BODY]?)"),
        ("[FOO] == 1", "unknown placeholder [FOO]; use one of [STATUS], [RESPONSE_TIME]"),
        ("[HEADER].Server == nginx", "[HEADER] is a Gatus placeholder statusbot does not support"),
        ("[DOMAIN_EXPIRATION] > 720h", "[DOMAIN_EXPIRATION] is a Gatus placeholder"),
        ("[STATUS].code == 200", "unexpected '.code' after [STATUS]; only [BODY] takes a path"),
        ("[STATUS == 200", "unbalanced brackets: the '[' at position 1 is never closed"),
        ("[BODY].items[0 == 1", "unbalanced brackets"),
        ("[BODY].a] == 1", "unbalanced brackets: the ']' at position 9 has no matching '['"),
        ("len([BODY].items > 1", "unbalanced parentheses: the '(' at position 4 is never closed"),
        ("[BODY].face == :)", "unbalanced parentheses"),
        ("[BODY].x == (]", "unbalanced brackets: the ']' at position 14 has no matching '['"),
        ('[BODY].status == "UP', "the quote at position 18 is never closed"),
        ("[BODY]..status == UP", "a path key is empty"),
        ("[BODY].items[first] == 1", "array index [first] must be a whole number"),
        ("[BODY].items[*].up == true", "the [*] wildcard is not supported"),
        ("[BODY]status == UP", "unexpected 'status' in a [BODY] path"),
        ("size([BODY]) > 1", "unknown function size(); statusbot knows len(), has(), pat()"),
        ("lenght([BODY]) > 1", "unknown function lenght() (did you mean len()?)"),
        ("len(items) > 1", "len() takes a placeholder, e.g. len([BODY].items)"),
        ("has() == true", "has() takes a placeholder"),
        ("len(has([BODY].a)) == 1", "len() takes a placeholder"),
        ("pat(*UP*) == [BODY]", "pat() goes on the right-hand side of == or !="),
        ("any(200, 201) == [STATUS]", "any() goes on the right-hand side of == or !="),
        ("[BODY] > pat(*UP*)", "pat() only works with == or !="),
        ("[STATUS] < any(200, 300)", "any() only works with == or !="),
        ("[BODY] == pat()", "pat() is empty"),
        ("200 == 200", "compares two fixed values; one side needs a placeholder"),
        ("UP == pat(U*)", "compares two fixed values"),
    ],
)
def test_invalid_condition(condition: str, message: str) -> None:
    with pytest.raises(ConditionSyntaxError) as raised:
        parse_condition(condition)

    assert message in str(raised.value)


def test_syntax_error_is_a_value_error_for_pydantic() -> None:
    assert issubclass(ConditionSyntaxError, ValueError)

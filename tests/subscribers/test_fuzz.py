"""Seeded fuzzing of the subscription routes: any form, any bytes, any token get a page with a
status below 500, never a traceback."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from bot.store.keyvalue import KeyValue
from tests.subscribers.conftest import PUBLIC_URL, Customer, mail_environment
from tests.support.slack_app import running_bot
from tests.support.smtp_server import SmtpServer

FIELDS = st.dictionaries(
    st.sampled_from(["email", "lang", "token", "List-Unsubscribe", "x"]),
    st.one_of(
        st.text(max_size=60),
        st.sampled_from(["a@example.com", "it", "en", "xx", "a@b", "@", "\r\n", "a" * 300]),
    ),
    max_size=4,
)
CONTENT_TYPES = st.sampled_from(
    [
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "application/json",
        "",
        "text/html; charset=latin-1",
    ]
)


@pytest.fixture
async def customer(memory_kv: KeyValue, smtp: SmtpServer) -> AsyncIterator[Customer]:
    async with running_bot(memory_kv, environment=mail_environment(smtp)) as bot:
        yield Customer(bot, smtp)


def _tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


@seed(20261201)
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=st.sampled_from(["/subscribe", "/unsubscribe", "/subscribe/confirm"]),
    method=st.sampled_from(["GET", "POST"]),
    fields=FIELDS,
    raw=st.one_of(st.none(), st.binary(max_size=300)),
    content_type=CONTENT_TYPES,
    query=FIELDS,
)
async def test_any_request_gets_a_page_below_500(
    customer: Customer,
    path: str,
    method: str,
    fields: dict[str, str],
    raw: bytes | None,
    content_type: str,
    query: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    body = raw if raw is not None else urlencode(fields).encode()
    url = customer.local(f"{PUBLIC_URL}{path}?{urlencode(query)}")
    response = await customer.bot.http.request(
        method, url, content=body, headers={"Content-Type": content_type}
    )
    assert response.status_code < 500, (path, method, body[:80], response.text[:200])
    assert "Traceback" not in response.text
    assert _tracebacks(caplog) == []

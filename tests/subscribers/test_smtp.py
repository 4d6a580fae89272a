"""SMTP_URL: STARTTLS when offered (certificates verified), implicit TLS with smtps://, a login,
and a password that never reaches a log or an error message."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.settings import Settings
from bot.store.keyvalue import KeyValue
from bot.subscribers import settings_problems
from bot.subscribers.smtp import parse_smtp_url
from tests.acceptance.test_cli import statusbot
from tests.subscribers.conftest import PUBLIC_URL, Customer, mail_environment
from tests.support.builders import TEMPLATES
from tests.support.pki import Pki
from tests.support.slack_app import redis_only, running_bot
from tests.support.smtp_server import SmtpServer

PASSWORD = "p@ss w0rd/secret"
PASSWORD_IN_URL = "p%40ss%20w0rd%2Fsecret"


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return Pki(tmp_path)


@pytest.fixture
async def starttls(pki: Pki) -> AsyncIterator[SmtpServer]:
    server = SmtpServer(
        tls_context=pki.server_context(timedelta(days=30)), credentials=("statusbot", PASSWORD)
    )
    await server.start()
    yield server
    await server.stop()


@redis_only
async def test_starttls_with_a_login_and_the_password_never_logged(
    kv: KeyValue, starttls: SmtpServer, pki: Pki, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    url = f"smtp://statusbot:{PASSWORD_IN_URL}@localhost:{starttls.port}"
    environment = mail_environment(
        starttls, url, ssl_cert_file=pki.ca_file, mail_from="Status <news@example.com>"
    )
    starttls.fail_next("421 4.3.2 Shutting down for a moment")
    async with running_bot(kv, environment=environment) as bot:
        customer = Customer(bot, starttls)
        await customer.confirmed("secure@example.com")
        (mail,) = starttls.to("secure@example.com")
        assert bot.runtime.subscriptions.mailing is not None
        assert PASSWORD not in repr(bot.runtime.subscriptions.mailing)
    assert mail.tls
    assert mail.login == "statusbot"
    assert mail.sender == "news@example.com"
    assert mail.message["From"] == "Status <news@example.com>"
    assert PASSWORD not in caplog.text and PASSWORD_IN_URL not in caplog.text
    assert "smtp://localhost:" in caplog.text  # the retry after 421 names the server, no more


@redis_only
async def test_implicit_tls_with_smtps(kv: KeyValue, pki: Pki) -> None:
    server = await SmtpServer(
        tls_context=pki.server_context(timedelta(days=30)), implicit_tls=True
    ).start()
    try:
        environment = mail_environment(
            server, f"smtps://localhost:{server.port}", ssl_cert_file=pki.ca_file
        )
        async with running_bot(kv, environment=environment) as bot:
            customer = Customer(bot, server)
            await customer.subscribe("tls@example.com")
            (mail,) = await customer.mails("tls@example.com", 1)
    finally:
        await server.stop()
    assert "subscribe/confirm?token=" in mail.text


@redis_only
async def test_an_untrusted_certificate_is_never_used_and_never_skipped(
    kv: KeyValue, pki: Pki, caplog: pytest.LogCaptureFixture
) -> None:
    server = await SmtpServer(
        tls_context=pki.server_context(timedelta(days=30), trusted=False)
    ).start()
    try:
        environment = mail_environment(
            server, f"smtp://localhost:{server.port}", ssl_cert_file=pki.ca_file
        )
        async with running_bot(kv, environment=environment, settle=False) as bot:
            await Customer(bot, server).subscribe("careful@example.com")
            await asyncio.sleep(1.5)
            assert await bot.runtime.outbox.depth() == 1  # waiting, not lost, not sent in clear
    finally:
        await server.stop()
    assert server.received == []
    assert "SMTP" in caplog.text and "retrying" in caplog.text


def test_smtp_urls() -> None:
    plain = parse_smtp_url("smtp://mail.example.com")
    assert (plain.host, plain.port, plain.implicit_tls, plain.username) == (
        "mail.example.com",
        587,
        False,
        None,
    )
    secure = parse_smtp_url(f"smtps://bot:{PASSWORD_IN_URL}@mail.example.com")
    assert (secure.port, secure.implicit_tls, secure.username) == (465, True, "bot")
    assert secure.password is not None and secure.password.get_secret_value() == PASSWORD
    assert PASSWORD not in repr(secure) and secure.where == "smtps://mail.example.com:465"
    assert parse_smtp_url("smtp://mail.example.com:2525").port == 2525


@pytest.mark.parametrize(
    "url",
    [
        f"http://bot:{PASSWORD_IN_URL}@mail.example.com",
        f"smtp://bot:{PASSWORD_IN_URL}@mail.example.com:port",
        f"smtp://bot:{PASSWORD_IN_URL}@",
        f"smtp://bot:{PASSWORD_IN_URL}@mail.example.com/path",
    ],
)
def test_a_bad_smtp_url_is_a_clear_error_without_the_password(url: str) -> None:
    with pytest.raises(ValueError, match=r"^SMTP_URL: expected smtp://") as caught:
        parse_smtp_url(url)
    assert PASSWORD_IN_URL not in str(caught.value) and PASSWORD not in str(caught.value)
    settings = Settings(_env_file=None, smtp_url=SecretStr(url), public_url=PUBLIC_URL)  # type: ignore[call-arg]
    (problem,) = settings_problems(settings)
    assert problem.startswith("environment: SMTP_URL: expected smtp://")
    assert PASSWORD_IN_URL not in problem


def test_a_bad_sender_address_is_reported() -> None:
    settings = Settings(_env_file=None, mail_from="status at example", public_url=PUBLIC_URL)  # type: ignore[call-arg]
    assert settings_problems(settings) == [
        "environment: STATUSBOT_MAIL_FROM is not an email address: it needs one @"
    ]


async def test_validate_and_run_refuse_a_bad_smtp_url_without_showing_the_password(
    tmp_path: Path,
) -> None:
    config = tmp_path / "statusbot.yaml"
    config.write_text(
        f"components: [{{id: web, name: Web}}]\nstatements: {{templates: {TEMPLATES}}}\n"
    )
    url = f"smtp://bot:{PASSWORD_IN_URL}@mail.example.com:twenty-five"
    code, _, err = await statusbot("validate", "--config", str(config), cwd=tmp_path, SMTP_URL=url)
    assert code == 1
    assert (
        "SMTP_URL: expected smtp://[user:password@]host[:port] or smtps://… (the port is not a number)"
        in err
    )
    code, _, run_err = await statusbot("run", "--config", str(config), cwd=tmp_path, SMTP_URL=url)
    assert code == 2
    assert "SMTP_URL: expected smtp://" in run_err and "Traceback" not in run_err
    for output in (err, run_err):
        assert PASSWORD_IN_URL not in output and PASSWORD not in output

    code, _, err = await statusbot(
        "validate", "--config", str(config), cwd=tmp_path, SMTP_URL="smtps://mail.example.com"
    )
    assert code == 0, err

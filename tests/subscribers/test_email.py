"""Email subscribers end to end: the page's form, the confirmation mail and link, every
published statement mailed in the subscriber's language, unsubscribing (link and RFC 8058 one
click), over a real SMTP server on loopback."""

from __future__ import annotations

import re
from pathlib import Path

from bot.store import RedisKeyValue
from bot.store.keyvalue import KeyValue
from tests.subscribers.conftest import (
    PUBLIC_URL,
    Customer,
    mail_environment,
    publish_statement,
)
from tests.support.redis_server import RedisServer
from tests.support.slack_app import redis_only, running_bot
from tests.support.smtp_server import SmtpServer

MARIO = "Mario.Rossi@Example.IT"
MARIO_SENT_TO = "Mario.Rossi@example.it"  # the domain in lower case, the local part as typed


async def test_subscribe_in_italian_confirm_and_get_every_statement_in_italian(
    customer: Customer,
) -> None:
    bot, smtp = customer.bot, customer.smtp
    page = await customer.get(f"{PUBLIC_URL}/?lang=it")
    assert f'action="{PUBLIC_URL}/subscribe"' in page.text
    assert '<input type="hidden" name="lang" value="it">' in page.text
    assert "Ricevi gli aggiornamenti via email" in page.text
    assert f"form-action {PUBLIC_URL}/subscribe;" in page.headers["Content-Security-Policy"]

    answer = await customer.subscribe(MARIO, "it")
    assert answer.status_code == 200
    assert "Controlla la posta" in answer.text
    assert answer.headers["Content-Language"] == "it"
    assert answer.headers["Cache-Control"] == "no-store"
    await customer.subscribe("nobody-confirms@example.com", "it")

    (confirmation,) = await customer.mails(MARIO_SENT_TO, 1)
    assert confirmation.subject == "Conferma l'iscrizione: Stato dei servizi"
    assert confirmation.message["From"] == "status@status.example.com"
    assert "List-Unsubscribe" not in confirmation.message
    assert "entro 48 ore" in confirmation.text
    link = await customer.confirmation_link(MARIO_SENT_TO)
    assert re.fullmatch(rf"{PUBLIC_URL}/subscribe/confirm\?token=[A-Za-z0-9_-]{{43}}", link)

    confirmed = await customer.get(link)
    assert confirmed.status_code == 200
    assert "Iscrizione confermata" in confirmed.text
    again = await customer.get(link)  # a second click, or a mail scanner that opened it first
    assert again.status_code == 200
    assert "La tua iscrizione è già confermata." in again.text

    statement_id = await publish_statement(bot)
    statement = await bot.runtime.statements.store.get(statement_id)
    assert statement is not None
    _, mail = await customer.mails(MARIO_SENT_TO, 2)
    assert mail.subject == (f"[Stato dei servizi] {statement.name['it']}: Analisi in corso")
    assert mail.message["Content-Language"] == "it"
    text = mail.text
    assert statement.name["it"] in text
    for paragraph in statement.texts["it"].split("\n\n"):
        assert " ".join(paragraph.split()) in " ".join(text.split())
    assert statement.texts["en"].split("\n")[0] not in text
    assert f"{PUBLIC_URL}/?lang=it#incident-1" in text
    unsubscribe = mail.message["List-Unsubscribe"]
    assert re.fullmatch(rf"<{PUBLIC_URL}/unsubscribe\?token=[A-Za-z0-9_-]{{43}}>", unsubscribe)
    assert unsubscribe.strip("<>") in text
    assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    await bot.settled()
    assert len(smtp.to("nobody-confirms@example.com")) == 1  # the confirmation only
    metrics = (await customer.get(f"{PUBLIC_URL}/metrics")).text
    assert 'statusbot_subscribers{state="confirmed"} 1.0' in metrics
    assert 'statusbot_subscriber_mails_total{kind="statement",result="sent"} 1.0' in metrics
    assert 'statusbot_subscriber_mails_total{kind="confirmation",result="sent"} 2.0' in metrics

    gone = await customer.get(unsubscribe.strip("<>"))
    assert gone.status_code == 200
    assert "Iscrizione annullata" in gone.text
    await publish_statement(bot, "status 1 identified")
    await bot.settled()
    assert len(smtp.to(MARIO_SENT_TO)) == 2
    metrics = (await customer.get(f"{PUBLIC_URL}/metrics")).text
    assert 'statusbot_subscribers{state="confirmed"} 0.0' in metrics
    used = await customer.get(link)  # the subscription it confirmed is over
    assert used.status_code == 410
    assert "Link scaduto o già usato" in used.text


async def test_one_click_unsubscribe_stops_the_mail(customer: Customer) -> None:
    bot, smtp = customer.bot, customer.smtp
    await customer.confirmed("ada@example.com")
    await publish_statement(bot)
    _, mail = await customer.mails("ada@example.com", 2)
    assert mail.subject.startswith("[Service status] ")

    # What a mail provider sends for RFC 8058: a POST to the header's URL with this body.
    one_click = await bot.http.post(
        customer.local(mail.message["List-Unsubscribe"].strip("<>")),
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert one_click.status_code == 200
    assert "Unsubscribed" in one_click.text
    twice = await bot.http.post(
        customer.local(mail.message["List-Unsubscribe"].strip("<>")),
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert twice.status_code == 200

    await publish_statement(bot, "status 1 identified")
    await bot.settled()
    assert len(smtp.to("ada@example.com")) == 2


async def test_the_answer_never_tells_whether_an_address_was_subscribed(
    customer: Customer,
) -> None:
    first = await customer.subscribe("grace@example.com")
    await customer.get(await customer.confirmation_link("grace@example.com"))
    again = await customer.subscribe("grace@example.com")
    stranger = await customer.subscribe("stranger@example.com")
    assert first.status_code == again.status_code == stranger.status_code == 200
    assert first.content == again.content == stranger.content
    assert dict(first.headers).keys() == dict(again.headers).keys()


async def test_subscribing_again_changes_the_language(customer: Customer) -> None:
    await customer.confirmed("linus@example.com", "en")
    await customer.confirmed("linus@example.com", "it")
    await publish_statement(customer.bot)
    mails = await customer.mails("linus@example.com", 3)
    assert mails[-1].message["Content-Language"] == "it"


@redis_only
async def test_bad_requests_get_one_line_4xx_pages_and_send_nothing(
    customer: Customer,
) -> None:
    cases = [
        (
            {"email": "not-an-address", "lang": "it"},
            None,
            400,
            "Questo non sembra un indirizzo email: serve una sola @.",
        ),
        (
            {"email": "a@b.example\r\nBcc: victim@example.com"},
            None,
            400,
            "That does not look like an email address",
        ),
        ({"email": "a@localhost"}, None, 400, "the domain after @ is not valid"),
        ({"email": "x" * 65 + "@example.com"}, None, 400, "the part before @ is not valid"),
        ({"email": "a@" + "b" * 250 + ".com"}, None, 400, "it is too long"),
        ({"email": "", "lang": "en"}, None, 400, "Enter your email address."),
        ({"lang": "it"}, None, 400, "Inserisci il tuo indirizzo email."),
    ]
    for data, _, status, line in cases:
        response = await customer.post("/subscribe", data)
        assert response.status_code == status, (data, response.text)
        assert line in response.text, (data, response.text)
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"

    raw = [
        (
            b"email=a%40example.com&pad=" + b"x" * 10_000,
            "application/x-www-form-urlencoded",
            413,
            "The request is too large.",
        ),
        (
            b'{"email": "a@example.com"}',
            "application/json",
            415,
            "Send the subscription form from the status page.",
        ),
        (
            b"email=\xff\xfe@example.com",
            "application/x-www-form-urlencoded",
            400,
            "Send the subscription form",
        ),
        (b"", "text/plain", 415, "Send the subscription form"),
    ]
    for body, content_type, status, line in raw:
        response = await customer.post(
            "/subscribe", content=body, headers={"Content-Type": content_type}
        )
        assert response.status_code == status, (body[:40], response.text)
        assert line in response.text

    chunked = await customer.bot.http.post(
        customer.local(f"{PUBLIC_URL}/subscribe"),
        content=_chunks(b"email=a%40example.com&pad=" + b"y" * 50_000),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert chunked.status_code == 413

    for link, status, line in [
        (f"{PUBLIC_URL}/subscribe/confirm", 400, "This link is incomplete"),
        (f"{PUBLIC_URL}/subscribe/confirm?token=", 400, "This link is incomplete"),
        (
            f"{PUBLIC_URL}/subscribe/confirm?token=forged",
            410,
            "This link has expired or was already used.",
        ),
        (f"{PUBLIC_URL}/subscribe/confirm?token={'x' * 5000}", 410, "expired"),
        (f"{PUBLIC_URL}/unsubscribe", 400, "This link is incomplete"),
        (f"{PUBLIC_URL}/unsubscribe?token=unknown", 200, "You will get no more updates by email."),
    ]:
        response = await customer.get(link)
        assert response.status_code == status, (link[:80], response.text)
        assert line in response.text
    assert (await customer.post("/unsubscribe", {"x": "y"})).status_code == 400
    assert (
        await customer.bot.http.get(customer.local(f"{PUBLIC_URL}/subscribe"))
    ).status_code == 405

    await customer.bot.settled()
    assert customer.smtp.received == []


async def _chunks(body: bytes):  # type: ignore[no-untyped-def]
    for start in range(0, len(body), 4096):
        yield body[start : start + 4096]


@redis_only
async def test_the_form_is_rate_limited_per_client_and_per_address(customer: Customer) -> None:
    answers = [await customer.subscribe(f"person{n}@example.com") for n in range(5)]
    assert [a.status_code for a in answers] == [200] * 5
    refused = await customer.subscribe("person5@example.com")
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "60"
    assert "Too many requests from your network; try again in a minute." in refused.text
    await customer.bot.settled()
    assert len(customer.smtp.received) == 5


@redis_only
async def test_an_inbox_cannot_be_flooded_with_confirmations(
    kv: KeyValue, smtp: SmtpServer
) -> None:
    # From several networks (each under its own limit), one address gets three mails an hour.
    async with running_bot(kv, environment=mail_environment(smtp)) as bot:
        service = bot.runtime.subscriptions
        for _ in range(5):
            await service.subscribe("victim@example.com", "en")
        await bot.settled()
    assert len(smtp.to("victim@example.com")) == 3


@redis_only
async def test_an_smtp_server_that_refuses_for_now_gets_the_mail_later_once(
    customer: Customer,
) -> None:
    customer.smtp.fail_next("451 4.3.0 Try again later")
    await customer.subscribe("patient@example.com")
    await customer.mails("patient@example.com", 1, timeout=15)
    await customer.bot.settled()
    assert len(customer.smtp.to("patient@example.com")) == 1
    metrics = (await customer.get(f"{PUBLIC_URL}/metrics")).text
    assert 'statusbot_subscriber_mails_total{kind="confirmation",result="failed"} 1.0' in metrics
    assert 'statusbot_outbox_retries_total{platform="email"} 1.0' in metrics


@redis_only
async def test_without_smtp_url_the_form_is_hidden_and_the_routes_are_404(kv: KeyValue) -> None:
    async with running_bot(kv) as bot:
        base = f"http://127.0.0.1:{bot.runtime.port}"
        page = await bot.http.get(f"{base}/?lang=it")
        assert "<form" not in page.text
        assert "form-action 'none'" in page.headers["Content-Security-Policy"]
        for method, path in [
            ("POST", "/subscribe"),
            ("GET", "/subscribe/confirm?token=x"),
            ("GET", "/unsubscribe?token=x"),
            ("POST", "/unsubscribe?token=x"),
        ]:
            response = await bot.http.request(method, base + path)
            assert response.status_code == 404, path


@redis_only
async def test_a_fan_out_run_again_queues_nobody_twice(customer: Customer) -> None:
    bot = customer.bot
    for name in ("one", "two"):
        await customer.confirmed(f"{name}@example.com")
    statement_id = await publish_statement(bot)
    await bot.settled()
    # As if the fan-out had been interrupted after queueing and the outbox ran it again.
    assert await bot.runtime.subscriptions.fan_out(statement_id) == 0
    await customer.confirmed("three@example.com")
    assert await bot.runtime.subscriptions.fan_out(statement_id) == 1  # only the newcomer
    await bot.settled()
    for name in ("one", "two", "three"):
        statements = [
            m for m in customer.smtp.to(f"{name}@example.com") if "List-Unsubscribe" in m.message
        ]
        assert len(statements) == 1, name


async def test_a_store_outage_is_a_503_page_never_a_traceback(
    tmp_path: Path, unique_prefix: str, smtp: SmtpServer
) -> None:
    server = await RedisServer(tmp_path).start()
    kv = RedisKeyValue.from_url(server.url, unique_prefix)
    try:
        async with running_bot(kv, environment=mail_environment(smtp)) as bot:
            customer = Customer(bot, smtp)
            await server.stop(kill=True)
            for response in [
                await customer.subscribe("later@example.com", "it"),
                await customer.get(f"{PUBLIC_URL}/subscribe/confirm?token=abc"),
                await customer.get(f"{PUBLIC_URL}/unsubscribe?token=abc"),
            ]:
                assert response.status_code == 503
                assert response.headers["Retry-After"] == "10"
                assert "Traceback" not in response.text
            assert (
                "Il servizio non è disponibile in questo momento; riprova tra poco."
                in (await customer.subscribe("later@example.com", "it")).text
            )
            await server.start()
            assert (await customer.subscribe("later@example.com")).status_code == 200
            await customer.mails("later@example.com", 1)
    finally:
        await kv.close()
        await server.stop()

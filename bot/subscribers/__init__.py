"""Subscribers of the status page: people by email (double opt-in, SMTP_URL) and configured
webhooks, told of every published statement through the outbox."""

from __future__ import annotations

import ssl
from email.utils import parseaddr

from bot.chat.outbox import Outbox
from bot.config import Config
from bot.metrics import Metrics
from bot.settings import Settings
from bot.statements.store import StatementStore
from bot.statuspage.public import StatusPage
from bot.store.keyvalue import KeyValue
from bot.subscribers.addresses import AddressError, normalize_address
from bot.subscribers.mail import MailComposer, default_sender
from bot.subscribers.routes import add_subscriber_routes
from bot.subscribers.service import Mailing, Subscriptions
from bot.subscribers.smtp import SmtpTransport, parse_smtp_url
from bot.subscribers.webhooks import WebhookSender

__all__ = ["Subscriptions", "add_subscriber_routes", "build_subscriptions", "settings_problems"]


def build_subscriptions(
    settings: Settings,
    config: Config,
    kv: KeyValue,
    outbox: Outbox,
    statements: StatementStore,
    page: StatusPage,
    metrics: Metrics,
    ssl_context: ssl.SSLContext | None,
) -> Subscriptions:
    """Webhooks as configured; email when SMTP_URL is set (ValueError when it is malformed)."""
    mailing = None
    if settings.smtp_url is not None and settings.smtp_url.get_secret_value().strip():
        server = parse_smtp_url(settings.smtp_url.get_secret_value())
        sender = settings.mail_from or default_sender(settings.public_url)
        composer = MailComposer(settings.public_url, sender, config.timezone)
        mailing = Mailing(composer, SmtpTransport(server, ssl_context))
    webhooks = WebhookSender(config.subscribers.webhooks, page, metrics, ssl_context)
    return Subscriptions(kv, outbox, statements, list(config.languages), metrics, webhooks, mailing)


def settings_problems(settings: Settings) -> list[str]:
    """Subscriber settings that cannot work, one line each (for `statusbot validate`)."""
    problems = []
    if settings.smtp_url is not None and settings.smtp_url.get_secret_value().strip():
        try:
            parse_smtp_url(settings.smtp_url.get_secret_value())
        except ValueError as exc:
            problems.append(f"environment: {exc}")
    if settings.mail_from is not None:
        try:
            normalize_address(parseaddr(settings.mail_from)[1])
        except AddressError as exc:
            problems.append(f"environment: STATUSBOT_MAIL_FROM is not an email address: {exc}")
    return problems

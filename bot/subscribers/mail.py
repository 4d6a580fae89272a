"""The mails subscribers get: the confirmation link, and each published statement with its
unsubscribe link and RFC 8058 one-click `List-Unsubscribe` headers. Plain text, in the
subscriber's language."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from bot.statements.models import Statement
from bot.statuspage.strings import Words
from bot.subscribers.store import CONFIRM_WITHIN
from bot.subscribers.texts import MailWords


def default_sender(public_url: str) -> str:
    """`status@<host of the public URL>`, the sender when STATUSBOT_MAIL_FROM is unset."""
    host = urlsplit(public_url).hostname or "localhost"
    return f"status@{host}"


class MailComposer:
    def __init__(self, public_url: str, sender: str, timezone: str) -> None:
        self.public_url = public_url.rstrip("/")
        self.sender = sender
        self._tz = ZoneInfo(timezone)
        self._domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"

    def page_url(self, language: str, anchor: str | None = None) -> str:
        return f"{self.public_url}/?lang={quote(language)}" + (f"#{anchor}" if anchor else "")

    def confirm_url(self, token: str) -> str:
        return f"{self.public_url}/subscribe/confirm?token={quote(token)}"

    def unsubscribe_url(self, token: str) -> str:
        return f"{self.public_url}/unsubscribe?token={quote(token)}"

    def confirmation(self, address: str, language: str, token: str, key: str) -> EmailMessage:
        words = MailWords(language)
        page = Words(language)("title")
        hours = str(int(CONFIRM_WITHIN.total_seconds() // 3600))
        body = words(
            "confirm_body",
            page=page,
            url=self.page_url(language),
            hours=hours,
            link=self.confirm_url(token),
        )
        return self._message(address, language, words("confirm_subject", page=page), body, key)

    def statement(
        self, address: str, language: str, statement: Statement, unsubscribe_token: str, key: str
    ) -> EmailMessage:
        words, page_words = MailWords(language), Words(language)
        name = _pick(statement.name, language)
        text = _pick(statement.texts, language)
        status = page_words.incident_status(statement.status)
        published = statement.decided_at or statement.drafted_at
        if statement.incident is not None:
            anchor = f"incident-{statement.incident}"
        else:
            anchor = f"maintenance-{statement.maintenance}"
        unsubscribe = self.unsubscribe_url(unsubscribe_token)
        page = page_words("title")
        body = "\n\n".join(
            [
                name,
                f"{status} · {page_words.moment(published, self._tz)}",
                text,
                "-- ",  # the signature separator: clients show what follows as a footer
                words("statement_footer", url=self.page_url(language, anchor), page=page,
                      link=unsubscribe),
            ]
        )  # fmt: skip
        subject = words("statement_subject", page=page, name=name, status=status)
        message = self._message(address, language, subject, body, key)
        message["List-Unsubscribe"] = f"<{unsubscribe}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        return message

    def _message(
        self, address: str, language: str, subject: str, body: str, key: str
    ) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = address
        # One line, whatever the statement's name holds: a header ends at a line break.
        message["Subject"] = " ".join(subject.split())
        message["Date"] = format_datetime(datetime.now(UTC))
        # The same ID on every attempt, so a mail sent twice after a lost answer is one thread.
        message["Message-ID"] = f"<{key}@{self._domain}>"
        message["Auto-Submitted"] = "auto-generated"
        # Quoted-printable: readable in the raw message, unlike base64, for accented text.
        message.set_content(body, cte="quoted-printable")
        # After set_content, which replaces every Content-* header.
        message["Content-Language"] = language
        return message


def _pick(texts: Mapping[str, str], language: str) -> str:
    """The text in the subscriber's language, else any the statement has."""
    return texts.get(language) or next((t for t in texts.values() if t), "")

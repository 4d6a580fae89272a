"""A real SMTP server on loopback (aiosmtpd, port 0) that keeps every message it accepts.

Plain, with STARTTLS offered (and then login required over it), or with implicit TLS; a test
makes the next deliveries fail with a reply of its choice (`fail_next("451 4.3.0 busy")`).
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


@dataclass
class Received:
    message: EmailMessage
    sender: str
    recipients: list[str]
    tls: bool
    login: str | None

    @property
    def subject(self) -> str:
        # A long subject is folded right after "Subject:"; a mail client unfolds and trims it.
        return str(self.message["Subject"]).strip()

    @property
    def text(self) -> str:
        body = self.message.get_body(("plain",))
        assert body is not None
        return str(body.get_content())  # type: ignore[attr-defined]


@dataclass
class SmtpServer:
    tls_context: ssl.SSLContext | None = None  # offer STARTTLS with it
    implicit_tls: bool = False  # TLS from the first byte (smtps)
    credentials: tuple[str, str] | None = None  # require this login (over TLS)
    received: list[Received] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    _server: asyncio.AbstractServer | None = None
    port: int = 0

    def fail_next(self, reply: str, times: int = 1) -> None:
        self.failures.extend([reply] * times)

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.recipients]

    async def start(self) -> SmtpServer:
        loop = asyncio.get_running_loop()
        starttls = None if self.implicit_tls else self.tls_context

        def protocol() -> SMTP:
            return SMTP(
                _Handler(self),
                hostname="mail.test",
                tls_context=starttls,
                auth_required=self.credentials is not None,
                auth_require_tls=True,
                authenticator=self._authenticate if self.credentials else None,
                loop=loop,
            )

        self._server = await loop.create_server(
            protocol,
            "127.0.0.1",
            0,
            ssl=self.tls_context if self.implicit_tls else None,
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword) or self.credentials is None:
            return AuthResult(success=False)
        given = (data.login.decode(), data.password.decode())
        return AuthResult(success=given == self.credentials, auth_data=given[0])


class _Handler:
    def __init__(self, owner: SmtpServer) -> None:
        self._owner = owner

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self._owner.failures:
            return self._owner.failures.pop(0)
        content = envelope.content
        assert isinstance(content, bytes)
        message = message_from_bytes(content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self._owner.received.append(
            Received(
                message=message,
                sender=str(envelope.mail_from),
                recipients=list(envelope.rcpt_tos),
                tls=session.ssl is not None,
                login=str(session.auth_data) if session.auth_data else None,
            )
        )
        return "250 OK"

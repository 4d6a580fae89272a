"""Sending mail through `SMTP_URL`: STARTTLS when the server offers it (`smtp://`), implicit
TLS (`smtps://`), optional login. The password is a secret: no message here contains it."""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

import aiosmtplib
from pydantic import SecretStr

from bot.chat.adapter import DeliveryError

_TIMEOUT_S = 30.0
_DEFAULT_PORTS = {"smtp": 587, "smtps": 465}


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    implicit_tls: bool
    username: str | None = None
    password: SecretStr | None = field(default=None, repr=False)

    @property
    def where(self) -> str:
        """For people and logs: no credentials."""
        scheme = "smtps" if self.implicit_tls else "smtp"
        return f"{scheme}://{self.host}:{self.port}"


def parse_smtp_url(url: str) -> SmtpServer:
    """`smtp://[user[:pass]@]host[:port]` or `smtps://…`; ValueError (without the URL, which
    may hold a password) when it is not one."""
    usage = "SMTP_URL: expected smtp://[user:password@]host[:port] or smtps://…"
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise ValueError(f"{usage} (the port is not a number)") from None
    if parts.scheme not in _DEFAULT_PORTS:
        raise ValueError(usage)
    if not parts.hostname:
        raise ValueError(f"{usage} (no host)")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"{usage} (nothing may follow the host and port)")
    password = unquote(parts.password) if parts.password is not None else None
    return SmtpServer(
        host=parts.hostname,
        port=port or _DEFAULT_PORTS[parts.scheme],
        implicit_tls=parts.scheme == "smtps",
        username=unquote(parts.username) if parts.username else None,
        password=SecretStr(password) if password is not None else None,
    )


class SmtpTransport:
    """Hands one message to the mail server; failures as the outbox understands them."""

    def __init__(self, server: SmtpServer, ssl_context: ssl.SSLContext | None) -> None:
        self.server = server
        self._ssl_context = ssl_context

    async def send(self, message: EmailMessage) -> None:
        server = self.server
        try:
            await aiosmtplib.send(
                message,
                hostname=server.host,
                port=server.port,
                username=server.username,
                password=server.password.get_secret_value() if server.password else None,
                use_tls=server.implicit_tls,
                # None: STARTTLS when the server offers it (certificates verified), else plain.
                start_tls=None if not server.implicit_tls else False,
                tls_context=self._ssl_context,
                timeout=_TIMEOUT_S,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [error.code for error in exc.recipients]
            # 5xx: the mailbox does not exist or refuses us; asking again changes nothing.
            permanent = bool(codes) and all(code >= 500 for code in codes)
            raise DeliveryError(
                f"{server.where} refused the recipient ({', '.join(map(str, codes))})",
                permanent=permanent,
            ) from None
        except aiosmtplib.SMTPAuthenticationError as exc:
            # The operator fixes the credentials; the mail waits for them, it is not lost.
            raise DeliveryError(f"{server.where} refused the login ({exc.code})") from None
        except aiosmtplib.SMTPResponseException as exc:
            raise DeliveryError(
                f"{server.where} answered {exc.code} {exc.message[:120]}".strip(),
                permanent=exc.code >= 500 and isinstance(exc, aiosmtplib.SMTPDataError),
            ) from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise DeliveryError(f"{server.where}: {type(exc).__name__}: {exc}") from None

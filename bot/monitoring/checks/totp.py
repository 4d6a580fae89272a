"""One-time codes for journeys through two-step verification: RFC 6238 TOTP (30 s, 6 digits)."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import ClassVar

import pyotp


class _IssuedTotp(pyotp.TOTP):
    # The site chose the secret; a probe logs in with whatever it issued, and many issue 80-bit
    # secrets, below the 112 bits pyotp asks of secrets by default.
    min_secret_length_bits: ClassVar[int] = 8


def normalize_secret(secret: str) -> str:
    # Sites show secrets in groups of four, in either case, without padding: accept all that.
    return "".join(secret.split()).replace("-", "").upper().rstrip("=")


def secret_problem(secret: str) -> str | None:
    """What is wrong with a base32 secret, in words that never repeat it; None if it's usable."""
    normalized = normalize_secret(secret)
    if not normalized:
        return "is empty; expected the base32 secret the site showed when two-step was set up"
    try:
        decoded = base64.b32decode(normalized + "=" * (-len(normalized) % 8))
    except (binascii.Error, ValueError):
        decoded = b""
    if not decoded:
        return "is not valid base32 (letters A-Z and digits 2-7, as the site showed it)"
    return None


def current_code(secret: str, at: datetime | None = None) -> str:
    """The code an authenticator app shows now (or `at`) for this secret."""
    totp = _IssuedTotp(normalize_secret(secret))
    return totp.at(at) if at is not None else totp.now()

"""Email addresses people type into the form: a sane syntax check that also rules out header
injection (only dot-atom characters, no spaces, quotes, commas or line breaks)."""

from __future__ import annotations

import hashlib
import re

MAX_ADDRESS = 254  # RFC 5321's limit on a path, less the angle brackets
MAX_LOCAL = 64

# RFC 5322 dot-atom: no quoted local parts, no comments, nothing that could end a header.
_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_TOP = re.compile(r"^(xn--[a-z0-9-]+|[a-z]{2,63})$")


class AddressError(ValueError):
    """An address we will not write to; the message says why, for the person who typed it."""


def normalize_address(raw: str) -> str:
    """The address as mail will be sent to it (domain in lower case, IDN as ASCII), or
    AddressError."""
    text = raw.strip()
    if len(text) > MAX_ADDRESS:
        raise AddressError("it is too long")
    if text.count("@") != 1:
        raise AddressError("it needs one @")
    local, domain = text.split("@")
    if not local or len(local) > MAX_LOCAL or not _LOCAL.match(local):
        raise AddressError("the part before @ is not valid")
    try:
        ascii_domain = domain.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise AddressError("the domain after @ is not valid") from None
    labels = ascii_domain.split(".")
    if (
        len(labels) < 2
        or not all(_LABEL.match(label) for label in labels)
        or not _TOP.match(labels[-1])
    ):
        raise AddressError("the domain after @ is not valid")
    address = f"{local}@{ascii_domain}"
    if len(address) > MAX_ADDRESS:
        raise AddressError("it is too long")
    return address


def subscriber_id(address: str) -> str:
    """A stable ID for an address (case-insensitive): the key a subscriber is kept under, and
    what logs and the outbox name instead of the address."""
    return hashlib.sha256(address.lower().encode()).hexdigest()[:32]

"""The address check: what people type is accepted, nothing that could break a mail header is."""

from __future__ import annotations

import pytest

from bot.subscribers.addresses import AddressError, normalize_address, subscriber_id


@pytest.mark.parametrize(
    ("typed", "sent_to"),
    [
        ("ada@example.com", "ada@example.com"),
        ("  Ada.Lovelace+status@Example.CO.UK ", "Ada.Lovelace+status@example.co.uk"),
        ("o'brien@example.ie", "o'brien@example.ie"),
        ("mario@bücher.example", "mario@xn--bcher-kva.example"),
    ],
)
def test_addresses_people_type(typed: str, sent_to: str) -> None:
    assert normalize_address(typed) == sent_to


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("", "it needs one @"),
        ("ada", "it needs one @"),
        ("ada@example.com, eve@example.com", "it needs one @"),
        ("a@b@example.com", "it needs one @"),
        ("ada@example.com\r\nBcc: eve@example.com", "it needs one @"),
        ("ada\r\n@example.com", "the part before @ is not valid"),
        ("ada@example.com\nX: y", "the domain after @ is not valid"),
        ('"ada"@example.com', "the part before @ is not valid"),
        ("Ada <ada@example.com>", "the part before @ is not valid"),
        (".ada@example.com", "the part before @ is not valid"),
        ("ada..l@example.com", "the part before @ is not valid"),
        ("ada@localhost", "the domain after @ is not valid"),
        ("ada@-example.com", "the domain after @ is not valid"),
        ("ada@example.123", "the domain after @ is not valid"),
        ("ada@[127.0.0.1]", "the domain after @ is not valid"),
        ("ada@exa mple.com", "the domain after @ is not valid"),
        ("a" * 65 + "@example.com", "the part before @ is not valid"),
        ("ada@" + "a" * 250 + ".com", "it is too long"),
    ],
)
def test_addresses_refused_with_a_reason(typed: str, reason: str) -> None:
    with pytest.raises(AddressError, match=f"^{reason}$"):
        normalize_address(typed)


def test_one_subscriber_per_address_whatever_its_case() -> None:
    assert subscriber_id("Ada@Example.com") == subscriber_id("ada@example.com")
    assert "ada" not in subscriber_id("ada@example.com")

"""The Alertmanager webhook payload (version 4), read strictly: bad input gets one line why."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.config import format_path

# Alertmanager sends a group's alerts in one request: a few KB each. Larger groups should be
# capped with the receiver's `max_alerts`; a body past this is refused, not read into memory.
MAX_BODY_BYTES = 1024 * 1024
MAX_ALERTS = 1000

# Alertmanager's "no time" (Go's zero time), which it sends as the end of a firing alert.
_NO_TIME_BEFORE = datetime(1971, 1, 1, tzinfo=UTC)


class PayloadError(ValueError):
    """What is wrong with a request body, in one line for the sender's logs."""


class _Strict(BaseModel):
    # Alertmanager may add fields in a later release of version 4: ignored, not refused.
    model_config = ConfigDict(extra="ignore", frozen=True)


class WebhookAlert(_Strict):
    status: Literal["firing", "resolved"]
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: datetime | None = Field(None, alias="startsAt")
    ends_at: datetime | None = Field(None, alias="endsAt")
    generator_url: str = Field("", alias="generatorURL")
    fingerprint: str | None = Field(None, pattern=r"^[0-9A-Za-z]{1,64}$")

    @field_validator("starts_at", "ends_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is None or value < _NO_TIME_BEFORE.replace(tzinfo=value.tzinfo):
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    @property
    def alertname(self) -> str:
        return self.labels.get("alertname", "")

    @property
    def key(self) -> str:
        """Alertmanager's fingerprint of the label set; the same digest where it sent none."""
        if self.fingerprint:
            return self.fingerprint
        canonical = json.dumps(sorted(self.labels.items()), separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


class WebhookPayload(_Strict):
    version: Literal["4"]
    status: Literal["firing", "resolved"]
    alerts: list[WebhookAlert] = Field(max_length=MAX_ALERTS)
    receiver: str = ""
    group_key: str = Field("", alias="groupKey")
    truncated_alerts: int = Field(0, alias="truncatedAlerts", ge=0)
    group_labels: dict[str, str] = Field(default_factory=dict, alias="groupLabels")
    common_labels: dict[str, str] = Field(default_factory=dict, alias="commonLabels")
    common_annotations: dict[str, str] = Field(default_factory=dict, alias="commonAnnotations")
    external_url: str = Field("", alias="externalURL")


def parse_payload(body: bytes) -> WebhookPayload:
    """The payload in `body`, or PayloadError saying what is wrong with it."""
    if len(body) > MAX_BODY_BYTES:
        raise PayloadError(f"the body is larger than {MAX_BODY_BYTES} bytes")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PayloadError(f"the body is not UTF-8 (byte {exc.start})") from None
    try:
        document: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PayloadError(f"the body is not JSON: {exc.msg} at line {exc.lineno}") from None
    except RecursionError:
        raise PayloadError("the body is not JSON Alertmanager sends: nested too deeply") from None
    if not isinstance(document, dict):
        raise PayloadError("expected a JSON object (an Alertmanager webhook payload)")
    if document.get("version") != "4":
        raise PayloadError(
            f'expected payload version "4", got {_short(document.get("version"))} '
            "(this is for Prometheus Alertmanager's webhook)"
        )
    try:
        return WebhookPayload.model_validate(document)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = format_path(error["loc"])
        more = exc.error_count() - 1
        also = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        raise PayloadError(f"{where or 'payload'}: {_message(error)}{also}") from None


def _message(error: Any) -> str:
    kind = error["type"]
    if kind == "missing":
        return "required field is missing"
    if kind == "literal_error":
        return f"got {_short(error['input'])}; expected {error['ctx']['expected']}"
    if kind == "too_long":
        return f"more than {MAX_ALERTS} alerts (set max_alerts on the receiver)"
    return str(error["msg"])


def _short(value: Any) -> str:
    if isinstance(value, dict | list):
        return "an object" if isinstance(value, dict) else "a list"
    text = repr(value) if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."

"""Keeping a journey's secrets (extracted values, one-time codes) out of what people see.

Everything that leaves a journey (the reason, failed conditions, errors) is masked with these
values replaced by `•••`. HTTP client logs are masked too, while a journey runs: httpx logs
each request's URL, which may carry a filled-in `{token}`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import replace
from urllib.parse import quote, quote_plus

from bot.monitoring.checks.result import ConditionResult, Observation

MASK = "•••"


class Secrets:
    """The secret values of one journey run, and masking with them."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def __bool__(self) -> bool:
        return bool(self._values)

    def add(self, value: str) -> None:
        # Also as a URL or a form would carry it: an error may quote the request's URL.
        forms = {value, quote(value, safe=""), quote(value), quote_plus(value)} - {""}
        if forms <= self._values:
            return
        self._values |= forms
        # Longest first: a value that contains another is masked whole.
        ordered = sorted(self._values, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(v) for v in ordered))

    def mask(self, text: str) -> str:
        return self._pattern.sub(MASK, text) if self._pattern is not None else text

    def mask_observation(self, observation: Observation) -> Observation:
        """The observation as people may see it: secrets in the body replaced (before any
        condition shortens the body, so no part of a value survives the cut)."""
        if self._pattern is None or observation.body is None:
            return observation
        return replace(observation, body=self.mask(observation.body))

    def mask_condition(self, result: ConditionResult) -> ConditionResult:
        return replace(result, description=self.mask(result.description))


_ACTIVE: ContextVar[Secrets | None] = ContextVar("journey_secrets", default=None)


@contextmanager
def masking_logs(secrets: Secrets) -> Iterator[None]:
    """Mask `secrets` in the HTTP client's log records made by this task until the end."""
    token = _ACTIVE.set(secrets)
    try:
        yield
    finally:
        _ACTIVE.reset(token)


class _MaskSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        secrets = _ACTIVE.get()
        if secrets:
            try:
                message = record.getMessage()
            except Exception:  # a malformed record: its handler reports it; never break the probe
                return True
            masked = secrets.mask(message)
            if masked != message:
                record.msg, record.args = masked, None
        return True


# A logger's filters see only records made on that logger, not its children's: name each one
# that logs requests (httpx: the URL) or responses (httpcore: the headers, at debug level).
_CLIENT_LOGGERS = (
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)
_FILTER = _MaskSecrets()
for _name in _CLIENT_LOGGERS:
    logging.getLogger(_name).addFilter(_FILTER)

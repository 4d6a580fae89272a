"""What a journey step keeps from its response for later steps: `extract: {csrf: "[BODY].csrf"}`.

An extraction reads `[BODY]` (the whole body), `[BODY].path` (a JSON path, as in conditions) or
`[HEADER].Name` (a response header, any case), optionally followed by `=~ regex`: then the
first group of the regex's first match (the whole match if it has no group), for values found
in HTML, such as `[BODY] =~ name="csrf" value="([^"]+)"`.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.monitoring.checks.conditions import (
    BodyPathMissing,
    ConditionSyntaxError,
    parse_body_path,
    read_body_path,
)
from bot.monitoring.checks.result import Observation

_HEADER = re.compile(r"\[HEADER\]\.([!#$%&'*+.^_`|~0-9A-Za-z-]+)", re.IGNORECASE)
_EXAMPLES = '[BODY].csrf, [HEADER].X-CSRF-Token or [BODY] =~ name="csrf" value="([^"]+)"'


class ExtractionSyntaxError(ValueError):
    """An extraction that cannot be parsed; the message is written for the person who wrote it."""


class NotExtracted(LookupError):
    """The response has no such value; the message says why, in a few words."""


@dataclass(frozen=True)
class Extraction:
    text: str  # as written in the config
    body_path: tuple[str | int, ...] | None  # None: a header
    header: str | None
    pattern: re.Pattern[str] | None

    @property
    def uses_body(self) -> bool:
        return self.body_path is not None

    def read(self, observation: Observation) -> str:
        """The value in this response; raise NotExtracted saying why there is none."""
        value = self._source(observation)
        if self.pattern is not None:
            match = self.pattern.search(value)
            if match is None:
                raise NotExtracted("no match")
            value = match[1] if self.pattern.groups else match[0]
            if value is None:
                raise NotExtracted("the group matched nothing")
        if not value:
            raise NotExtracted("empty")
        return value

    def _source(self, observation: Observation) -> str:
        if self.header is not None:
            value = _header(observation.headers or {}, self.header)
            if value is None:
                raise NotExtracted(f"no {self.header} header")
            return value
        if observation.body is None or self.body_path is None:
            raise NotExtracted("no body")
        try:
            found = read_body_path(observation.body, self.body_path)
        except BodyPathMissing as missing:
            raise NotExtracted(str(missing)) from None
        return _text_of(found)


@functools.lru_cache(maxsize=4096)
def parse_extraction(text: str) -> Extraction:
    """Parse `[BODY].csrf`, `[HEADER].Name`, either with `=~ regex`; raise ExtractionSyntaxError."""
    source, regex_given, regex = text.partition("=~")
    source = source.strip()
    pattern = _compile(regex.strip()) if regex_given else None
    header = _HEADER.fullmatch(source)
    if header:
        return Extraction(text, None, header[1], pattern)
    if not source.upper().startswith("[BODY]"):
        raise ExtractionSyntaxError(
            f"{source or text!r} is not a value to extract; write {_EXAMPLES}"
        )
    try:
        path = parse_body_path(source)
    except ConditionSyntaxError as exc:
        raise ExtractionSyntaxError(str(exc)) from None
    return Extraction(text, path, None, pattern)


def _compile(regex: str) -> re.Pattern[str]:
    if not regex:
        raise ExtractionSyntaxError(
            f"nothing after =~; write a regular expression, e.g. {_EXAMPLES}"
        )
    try:
        return re.compile(regex)
    except re.error as exc:
        raise ExtractionSyntaxError(f"invalid regular expression after =~: {exc}") from None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def _text_of(value: Any) -> str:
    if value is None:
        raise NotExtracted("null")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)

"""The Gatus condition language: `[STATUS] == 200`, `[BODY].status == UP`, `len([BODY]) > 0`."""

from __future__ import annotations

import difflib
import functools
import json
import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.durations import parse_duration
from bot.monitoring.checks.result import ConditionResult, Observation

__all__ = [
    "BodyPathMissing",
    "Condition",
    "ConditionSyntaxError",
    "evaluate_conditions",
    "parse_body_path",
    "parse_condition",
    "read_body_path",
    "uses_body",
]


class ConditionSyntaxError(ValueError):
    """A condition that cannot be parsed; the message is written for the person who wrote it."""


_PLACEHOLDERS = (
    "STATUS",
    "RESPONSE_TIME",
    "BODY",
    "CONNECTED",
    "CERTIFICATE_EXPIRATION",
    "IP",
    "DNS_RCODE",
)
_GATUS_ONLY = ("DOMAIN_EXPIRATION", "HEADER", "CONTEXT")
_FUNCTIONS = ("len", "has", "pat", "any")
_OPERATORS = ("==", "!=", "<=", ">=", "<", ">")
_SPACED_OPERATORS = tuple(f" {op} " for op in _OPERATORS)
_CLOSING = {")": "(", "]": "["}
_PAREN_NAMES = {"(": "parentheses", "[": "brackets"}

_PLACEHOLDER = re.compile(r"\[([A-Za-z_]+)\]")
_FUNCTION = re.compile(r"([A-Za-z_]\w*)\((.*)\)", re.DOTALL)
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_PATH_KEY = re.compile(r"\.([^.\[\]]+)")
_PATH_INDEX = re.compile(r"\[(\d+)\]")
_WHITESPACE = re.compile(r"\s+")

# Gatus cuts values compared with pat() at a similar length.
_SHOWN_MAX = 50
_MS = timedelta(milliseconds=1)


class _Missing(Exception):
    """The probe has no value for a placeholder; the message says why, for the description."""


@dataclass(frozen=True, slots=True)
class _Value:
    text: str  # what string comparisons see
    number: int | float | None = None  # set when the value compares numerically
    shown: str | None = None  # how the value is displayed, when not `text`
    missing: str | None = None  # why there is no value: the condition then fails
    # Several values at once (a dns check's answers): `==` holds when one of them is equal,
    # `!=` when none is. None for a single value.
    alternatives: tuple[_Value, ...] | None = None


# --- operands ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Literal:
    text: str  # as written, quotes included
    value: _Value

    uses_body = False
    displays_value = False

    def resolve(self, observation: Observation) -> _Value:
        return self.value


@dataclass(frozen=True, slots=True)
class _Placeholder:
    text: str
    name: str  # canonical: "BODY"
    path: tuple[str | int, ...] = ()

    displays_value = True

    @property
    def uses_body(self) -> bool:
        return self.name == "BODY"

    def raw(self, observation: Observation) -> Any:
        """The observed value as a Python object; raises _Missing when there is none."""
        if self.name == "BODY" and not self.path and observation.answers is not None:
            return list(observation.answers)
        value = _OBSERVED[self.name](observation)
        if value is None:
            raise _Missing("not observed")
        if self.name == "BODY":
            return _walk_json(value, self.path) if self.path else value.strip()
        return value

    def resolve(self, observation: Observation) -> _Value:
        try:
            value = self.raw(observation)
        except _Missing as missing:
            return _Value("", missing=str(missing))
        if self.name == "CERTIFICATE_EXPIRATION":
            return _Value(str(value), value, shown=_format_ms(value))
        if self.name == "BODY" and not self.path and observation.answers is not None:
            return _answers(observation.answers)
        return _value_of(value)


@dataclass(frozen=True, slots=True)
class _Length:
    text: str
    inner: _Placeholder

    displays_value = True

    @property
    def uses_body(self) -> bool:
        return self.inner.uses_body

    def resolve(self, observation: Observation) -> _Value:
        try:
            value = self.inner.raw(observation)
        except _Missing as missing:
            return _Value("", missing=str(missing))
        # A dns check's answers arrive as a list: len([BODY]) counts them.
        if self.inner.name == "BODY" and not self.inner.path and isinstance(value, str):
            # len([BODY]) counts a JSON array's elements or an object's keys, as in Gatus.
            document = _parse_json(value)
            if isinstance(document, list | dict):
                value = document
        size = len(value) if isinstance(value, str | list | dict) else len(_value_of(value).text)
        return _value_of(size)


@dataclass(frozen=True, slots=True)
class _Has:
    text: str
    inner: _Placeholder

    displays_value = True

    @property
    def uses_body(self) -> bool:
        return self.inner.uses_body

    def resolve(self, observation: Observation) -> _Value:
        try:
            value = self.inner.raw(observation)
        except _Missing:
            return _value_of(False)
        # A path that resolves exists even when its value is empty, as in Gatus.
        return _value_of(bool(self.inner.path) or value not in ("", []))


@dataclass(frozen=True, slots=True)
class _Pattern:
    """`pat(*Balance*)`: `*` matches any run of characters, everything else matches itself."""

    text: str
    parts: tuple[str, ...]  # the pattern split at `*`

    uses_body = False
    displays_value = False

    def resolve(self, observation: Observation) -> _Value:
        return _Value(self.text)

    def matches(self, value: _Value) -> bool:
        # str.find instead of a regex: linear on large bodies, no backtracking.
        text, parts = value.text, self.parts
        if len(parts) == 1:
            return text == parts[0]
        first, last = parts[0], parts[-1]
        if len(text) < len(first) + len(last) or not text.startswith(first):
            return False
        if not text.endswith(last):
            return False
        position, end = len(first), len(text) - len(last)
        for part in parts[1:-1]:
            found = text.find(part, position, end)
            if found < 0:
                return False
            position = found + len(part)
        return True


@dataclass(frozen=True, slots=True)
class _AnyOf:
    """`any(200, 201, 204)`: equal to one of the options."""

    text: str
    options: tuple[_Value, ...]

    uses_body = False
    displays_value = False

    def resolve(self, observation: Observation) -> _Value:
        return _Value(self.text)

    def matches(self, value: _Value) -> bool:
        return any(_equal(value, option) for option in self.options)


_Operand = _Literal | _Placeholder | _Length | _Has
_RightOperand = _Operand | _Pattern | _AnyOf


# --- the condition ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Condition:
    """One parsed condition; evaluating it never raises."""

    text: str
    left: _Operand
    operator: str
    right: _RightOperand

    @property
    def uses_body(self) -> bool:
        """Whether the probe has to read the response body for this condition."""
        return self.left.uses_body or self.right.uses_body

    def evaluate(self, observation: Observation) -> ConditionResult:
        left = self.left.resolve(observation)
        right = self.right.resolve(observation)
        success = left.missing is None and right.missing is None and self._holds(left, right)
        description = f"{_render(self.left, left)} {self.operator} {_render(self.right, right)}"
        return ConditionResult(condition=self.text, success=success, description=description)

    def _holds(self, left: _Value, right: _Value) -> bool:
        # Several values (a dns check's answers): `==` holds when one of them is equal; `!=`,
        # its negation, when none is (not "when some answer differs", which always holds).
        combine = all if self.operator == "!=" else any
        if left.alternatives is not None:
            return combine(self._holds(value, right) for value in left.alternatives)
        if right.alternatives is not None:
            return combine(self._holds(left, value) for value in right.alternatives)
        if isinstance(self.right, _Pattern | _AnyOf):
            return self.right.matches(left) == (self.operator == "==")
        return _COMPARISONS[self.operator](left, right)


def _render(operand: _RightOperand, value: _Value) -> str:
    if not operand.displays_value:
        return operand.text
    return f"{operand.text} ({value.missing or _shorten(value.shown or value.text)})"


def _shorten(text: str) -> str:
    if len(text) <= _SHOWN_MAX and text.isprintable():
        return text
    # A body's line breaks would split a one-line alert, and its length would fill a screen.
    flat = _WHITESPACE.sub(" ", text[: _SHOWN_MAX * 4])
    return flat if len(flat) <= _SHOWN_MAX else flat[: _SHOWN_MAX - 3] + "..."


def _equal(left: _Value, right: _Value) -> bool:
    if left.number is not None and right.number is not None:
        return left.number == right.number
    if left.text == right.text:
        return True
    # `== True` and `== true` mean the same to people, though JSON spells it one way.
    lowered = left.text.lower()
    return lowered in ("true", "false") and lowered == right.text.lower()


def _ordering(compare: Callable[[Any, Any], bool]) -> Callable[[_Value, _Value], bool]:
    def ordered(left: _Value, right: _Value) -> bool:
        if left.number is not None and right.number is not None:
            return compare(left.number, right.number)
        return compare(left.text, right.text)

    return ordered


_COMPARISONS: dict[str, Callable[[_Value, _Value], bool]] = {
    "==": _equal,
    "!=": lambda left, right: not _equal(left, right),
    "<": _ordering(operator.lt),
    "<=": _ordering(operator.le),
    ">": _ordering(operator.gt),
    ">=": _ordering(operator.ge),
}


def evaluate_conditions(
    texts: Iterable[str], observation: Observation
) -> tuple[ConditionResult, ...]:
    """Evaluate each condition (parsed once, then cached) against one observation."""
    return tuple(parse_condition(text).evaluate(observation) for text in texts)


def uses_body(texts: Iterable[str]) -> bool:
    """Whether any of these conditions looks at the response body."""
    return any(parse_condition(text).uses_body for text in texts)


# --- observed values --------------------------------------------------------------------------


def _response_time_ms(observation: Observation) -> int | None:
    elapsed = observation.response_time
    return None if elapsed is None else elapsed // _MS


def _certificate_ms(observation: Observation) -> int | None:
    remaining = observation.certificate_expiration
    return None if remaining is None else remaining // _MS


_OBSERVED: dict[str, Callable[[Observation], Any]] = {
    "STATUS": lambda observation: observation.status,
    "RESPONSE_TIME": _response_time_ms,
    "BODY": lambda observation: observation.body,
    "CONNECTED": lambda observation: observation.connected,
    "CERTIFICATE_EXPIRATION": _certificate_ms,
    "IP": lambda observation: observation.ip,
    "DNS_RCODE": lambda observation: observation.dns_rcode,
}

_NOT_JSON = object()


# Several conditions usually read the same body; parse it once, and keep only a few bodies.
@functools.lru_cache(maxsize=8)
def _parse_json(body: str) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return _NOT_JSON


def _walk_json(body: str, path: tuple[str | int, ...]) -> Any:
    node = _parse_json(body)
    if node is _NOT_JSON:
        raise _Missing("body is not JSON")
    where = "[BODY]"
    for step in path:
        if isinstance(step, int):
            if not isinstance(node, list):
                raise _Missing(f"{where} is {_kind(node)}, not an array")
            if step >= len(node):
                raise _Missing(f"{where} has {len(node)} elements")
            node = node[step]
            where += f"[{step}]"
        else:
            if not isinstance(node, dict):
                raise _Missing(f"{where} is {_kind(node)}, not an object")
            if step not in node:
                inside = "" if where == "[BODY]" else f" in {where}"
                raise _Missing(f'no key "{step}"{inside}')
            node = node[step]
            where += f".{step}"
    return node


def _kind(node: Any) -> str:
    if isinstance(node, dict):
        return "an object"
    if isinstance(node, list):
        return "an array"
    if isinstance(node, str):
        return "a string"
    if isinstance(node, bool):
        return "a boolean"
    return "null" if node is None else "a number"


def _value_of(value: Any) -> _Value:
    if isinstance(value, bool):
        return _Value("true" if value else "false")
    if isinstance(value, int | float):
        return _Value(str(value), value)
    if isinstance(value, str):
        return _Value(value, _number(value))
    return _Value(json.dumps(value, separators=(",", ":"), ensure_ascii=False))


def _answers(answers: tuple[str, ...]) -> _Value:
    text = ", ".join(answers)
    return _Value(text, shown=text or "no answer", alternatives=tuple(map(_value_of, answers)))


def _number(text: str) -> int | float | None:
    if not _NUMBER.fullmatch(text):
        return None
    try:
        return int(text)
    except ValueError:
        return float(text)


def _format_ms(milliseconds: int) -> str:
    """`71h`, `47h59m`, `5m30s`: Gatus's style, to the minute once it's over an hour."""
    sign = "-" if milliseconds < 0 else ""
    hours, rest = divmod(abs(milliseconds) // 1000, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{sign}{hours}h{minutes}m" if minutes else f"{sign}{hours}h"
    if minutes:
        return f"{sign}{minutes}m{seconds}s" if seconds else f"{sign}{minutes}m"
    return f"{sign}{seconds}s"


# --- parsing ----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=65536)
def parse_condition(text: str) -> Condition:
    """Parse a condition such as `[STATUS] == 200`; raise ConditionSyntaxError if it's invalid."""
    if not text.strip():
        raise ConditionSyntaxError("the condition is empty; write one like [STATUS] == 200")
    position, op = _find_operator(text)
    left_text, right_text = text[:position].strip(), text[position + len(op) :].strip()
    near_miss = text[position : position + len(op) + 1]
    # `===`, `!==`, `<==`, `<>`: near misses that would otherwise compare with "= 200" and
    # never match. (A value may still start with < or >, as HTML does: `[BODY] == <h1>…`.)
    if right_text.startswith("=") or (op == "<" and right_text.startswith(">")):
        raise ConditionSyntaxError(
            f"{near_miss.strip()!r} is not an operator; use one of {', '.join(_OPERATORS)}"
        )
    if not left_text:
        raise ConditionSyntaxError(f"nothing on the left of {op}; write it like [STATUS] {op} 200")
    if not right_text:
        raise ConditionSyntaxError(f"nothing on the right of {op}; write it like [STATUS] {op} 200")
    left = _parse_left(left_text)
    right = _parse_operand(right_text, op)
    if isinstance(left, _Literal) and isinstance(right, _Literal | _Pattern | _AnyOf):
        raise ConditionSyntaxError(
            f"{left_text} {op} {right_text} compares two fixed values; one side needs a "
            f"placeholder such as [STATUS] or [BODY].status"
        )
    return Condition(text=text, left=left, operator=op, right=right)


def _find_operator(text: str) -> tuple[int, str]:
    """Where the comparison is: the first operator outside brackets, parentheses and quotes."""
    open_at: list[tuple[str, int]] = []
    quote_at: int | None = None
    found: tuple[int, str] | None = None
    index = 0
    while index < len(text):
        char = text[index]
        if quote_at is not None:
            if char == '"':
                quote_at = None
        elif char == '"':
            quote_at = index
        elif char in "([":
            open_at.append((char, index))
        elif char in ")]":
            _close(open_at, char, index)
        elif open_at:
            pass
        elif found is None:
            op = _operator_at(text, index)
            if op:
                found = (index, op)
                index += len(op)
                continue
        elif text.startswith(_SPACED_OPERATORS, index):
            raise ConditionSyntaxError(
                "only one comparison per condition; write each comparison as its own "
                "condition (or put text containing an operator in double quotes)"
            )
        index += 1
    if quote_at is not None:
        raise ConditionSyntaxError(f"the quote at position {quote_at + 1} is never closed")
    if open_at:
        char, at = open_at[-1]
        closing = "]" if char == "[" else ")"
        raise ConditionSyntaxError(
            f"unbalanced {_PAREN_NAMES[char]}: the {char!r} at position {at + 1} "
            f"is never closed with {closing!r}"
        )
    if found is None:
        raise ConditionSyntaxError(
            "no comparison operator; use one of ==, !=, <, <=, >, >= between two values, "
            "e.g. [STATUS] == 200"
        )
    return found


def _close(open_at: list[tuple[str, int]], char: str, index: int) -> None:
    opening = _CLOSING[char]
    if not open_at or open_at[-1][0] != opening:
        raise ConditionSyntaxError(
            f"unbalanced {_PAREN_NAMES[opening]}: the {char!r} at position {index + 1} has no "
            f"matching {opening!r}; put text containing brackets in double quotes"
        )
    open_at.pop()


def _operator_at(text: str, index: int) -> str | None:
    pair = text[index : index + 2]
    if pair in ("==", "!=", "<=", ">="):
        return pair
    if pair in ("=>", "=<"):
        raise ConditionSyntaxError(f"{pair} is not an operator; write {pair[::-1]}")
    char = text[index]
    if char in "<>":
        return char
    if char == "=":
        raise ConditionSyntaxError("a single = is not an operator; write == to compare")
    return None


def _parse_left(text: str) -> _Operand:
    operand = _parse_operand(text, op=None)
    if isinstance(operand, _Pattern | _AnyOf):
        name = text.split("(")[0].lower()
        raise ConditionSyntaxError(
            f"{name}() goes on the right-hand side of == or !=, e.g. {_FUNCTION_EXAMPLES[name]}"
        )
    return operand


def _parse_operand(text: str, op: str | None) -> _RightOperand:
    """One side of a condition; `op` is None on the left, where pat() and any() don't belong."""
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return _Literal(text, _Value(text[1:-1]))
    function = _FUNCTION.fullmatch(text)
    if function:
        return _parse_function(text, function[1], function[2].strip(), op)
    if _PLACEHOLDER.match(text):
        return _parse_placeholder(text)
    return _Literal(text, _literal_value(text))


def _literal_value(text: str) -> _Value:
    number = _number(text)
    if number is None:
        # `336h` or `7d` next to [CERTIFICATE_EXPIRATION] or [RESPONSE_TIME] means milliseconds.
        try:
            number = parse_duration(text) // _MS
        except ValueError:
            number = None
    return _Value(text, number)


def _parse_function(text: str, name: str, argument: str, op: str | None) -> _RightOperand:
    lowered = name.lower()
    if lowered in ("len", "has"):
        if not _PLACEHOLDER.match(argument):
            raise ConditionSyntaxError(
                f"{lowered}() takes a placeholder, e.g. {lowered}([BODY].items); got {text}"
            )
        inner = _parse_placeholder(argument)
        return _Length(text, inner) if lowered == "len" else _Has(text, inner)
    if lowered in ("pat", "any"):
        if op not in (None, "==", "!="):
            raise ConditionSyntaxError(
                f"{lowered}() only works with == or !=, e.g. {_FUNCTION_EXAMPLES[lowered]}"
            )
        if not argument:
            raise ConditionSyntaxError(f"{lowered}() is empty; e.g. {_FUNCTION_EXAMPLES[lowered]}")
        if lowered == "pat":
            return _Pattern(text, tuple(_unquote(argument).split("*")))
        options = tuple(_literal_value(_unquote(part.strip())) for part in argument.split(","))
        return _AnyOf(text, options)
    hint = _did_you_mean(lowered, _FUNCTIONS, suffix="()")
    raise ConditionSyntaxError(
        f"unknown function {name}(){hint}; statusbot knows len(), has(), pat() and any() "
        f"(put text containing parentheses in double quotes)"
    )


_FUNCTION_EXAMPLES = {
    "pat": "[BODY] == pat(*Balance*)",
    "any": "[STATUS] == any(200, 204)",
}


def _unquote(text: str) -> str:
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


def _parse_placeholder(text: str) -> _Placeholder:
    match = _PLACEHOLDER.match(text)
    if match is None:
        raise ConditionSyntaxError(f"expected a placeholder such as [STATUS]; got {text}")
    name = match[1].upper()
    if name not in _PLACEHOLDERS:
        raise ConditionSyntaxError(_unknown_placeholder(match[0], name))
    rest = text[match.end() :]
    if rest and name != "BODY":
        raise ConditionSyntaxError(
            f"unexpected {rest!r} after [{name}]; only [BODY] takes a path, e.g. [BODY].status"
        )
    return _Placeholder(text, name, _parse_path(rest))


def _unknown_placeholder(written: str, name: str) -> str:
    known = ", ".join(f"[{known}]" for known in _PLACEHOLDERS)
    if name in _GATUS_ONLY:
        return f"[{name}] is a Gatus placeholder statusbot does not support; use one of {known}"
    hint = _did_you_mean(name, _PLACEHOLDERS, prefix="[", suffix="]")
    return f"unknown placeholder {written}{hint}; use one of {known}"


def _did_you_mean(word: str, choices: Iterable[str], *, prefix: str = "", suffix: str = "") -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {prefix}{close[0]}{suffix}?)" if close else ""


def _parse_path(rest: str) -> tuple[str | int, ...]:
    """`.data.items[0].name` → ("data", "items", 0, "name")."""
    path: list[str | int] = []
    position = 0
    while position < len(rest):
        key = _PATH_KEY.match(rest, position)
        index = _PATH_INDEX.match(rest, position)
        if key:
            path.append(key[1])
            position = key.end()
        elif index:
            path.append(int(index[1]))
            position = index.end()
        else:
            raise ConditionSyntaxError(_bad_path(rest, position))
    return tuple(path)


def _bad_path(rest: str, position: int) -> str:
    tail = rest[position:]
    if tail.startswith("[*]"):
        return "the [*] wildcard is not supported; index one element, e.g. [BODY].items[0].status"
    if tail.startswith("["):
        return f"array index {tail.split(']')[0]}] must be a whole number, e.g. [BODY].items[0]"
    if tail.startswith("."):
        return "a path key is empty; write it like [BODY].data.status"
    return f"unexpected {tail!r} in a [BODY] path; write it like [BODY].data.items[0].status"


# --- values a journey step extracts -----------------------------------------------------------


class BodyPathMissing(LookupError):
    """A `[BODY].path` that names nothing in this body; the message says why."""


def parse_body_path(text: str) -> tuple[str | int, ...]:
    """`[BODY].data.items[0]` → ("data", "items", 0), the path syntax conditions use."""
    placeholder = _parse_placeholder(text)
    if placeholder.name != "BODY":
        raise ConditionSyntaxError(f"expected [BODY] or a path such as [BODY].csrf; got {text}")
    return placeholder.path


def read_body_path(body: str, path: tuple[str | int, ...]) -> Any:
    """The JSON value at `path` (the stripped body for no path); raise BodyPathMissing."""
    if not path:
        return body.strip()
    try:
        return _walk_json(body, path)
    except _Missing as missing:
        raise BodyPathMissing(str(missing)) from None

"""Durations as people write them in config (`30s`, `5m`, `2h`, `1d`) and read them in posts."""

from __future__ import annotations

import math
import re
from datetime import timedelta

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")


def parse_duration(text: str) -> timedelta:
    """Parse `30s`, `5m`, `2h`, `1d`, `1h30m` or `250ms`; raise ValueError otherwise."""
    cleaned = text.strip().lower()
    pos = 0
    seconds = 0.0
    for match in _PART.finditer(cleaned):
        if match.start() != pos:
            break
        seconds += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if not cleaned or pos != len(cleaned):
        raise ValueError(f"{text!r} is not a duration; write it like 30s, 5m, 2h or 1d")
    return seconds_to_duration(seconds, text)


_LONGEST = timedelta(days=3650)


def seconds_to_duration(seconds: float, shown: object) -> timedelta:
    """A duration of at most ten years; ValueError (naming `shown`) for anything else."""
    if not math.isfinite(seconds) or seconds < 0 or seconds > _LONGEST.total_seconds():
        raise ValueError(f"{shown!r} is not a duration of at most 10 years (3650d)")
    return timedelta(seconds=seconds)


def format_duration(delta: timedelta) -> str:
    """Render a duration the way an on-call engineer says it: `45s`, `42m`, `1h 5m`, `2d 3h`."""
    total = max(0, int(delta.total_seconds()))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    if minutes:
        return f"{minutes}m"
    return f"{seconds}s"


def format_age(delta: timedelta) -> str:
    """How long ago, in its largest unit, as people say it: `2d`, `5h`, `12m`, `30s`."""
    total = max(0, int(delta.total_seconds()))
    for unit, seconds in (("d", 86400), ("h", 3600), ("m", 60)):
        if total >= seconds:
            return f"{total // seconds}{unit}"
    return f"{total}s"

"""Times as people read them: in the configured time zone, in the reader's language.

Stored times are UTC; every time shown to a person is formatted here.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

# fmt: off
_MONTHS = {
    "en": [
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ],
    "it": [
        "gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno",
        "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre",
    ],
}
# fmt: on


def clock_time(at: datetime, tz: ZoneInfo) -> str:
    """`11:30`: the time of day, for a line that already says which day."""
    return f"{at.astimezone(tz):%H:%M}"


def zoned_time(at: datetime, tz: ZoneInfo) -> str:
    """`11:30 CET`."""
    local = at.astimezone(tz)
    return f"{local:%H:%M} {local.tzname()}"


def local_time(at: datetime, tz: ZoneInfo) -> str:
    """`2026-11-22 11:30 CET`: for engineers, unambiguous and sortable."""
    local = at.astimezone(tz)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def month_name(month: int, language: str, *, short: bool = False) -> str | None:
    """`November` / `novembre` (`Nov` / `nov` when short); None for a language without a table."""
    months = _MONTHS.get(language)
    if months is None:
        return None
    name = months[month - 1]
    return name[:3] if short else name


def day_name(day: date, language: str, *, short: bool = False) -> str:
    """`22 November 2026` / `22 novembre 2026` (`22 Nov 2026` when short); ISO elsewhere."""
    month = month_name(day.month, language, short=short)
    if month is None:
        return day.isoformat()
    return f"{day.day} {month} {day.year}"


def public_date(at: datetime, tz: ZoneInfo, language: str) -> str:
    """The local day of a moment, for customers: `22 November 2026`."""
    return day_name(at.astimezone(tz).date(), language)


def public_moment(at: datetime, tz: ZoneInfo, language: str) -> str:
    """`11:30 CET on 22 November 2026` / `22 novembre 2026 alle 11:30 CET`."""
    if language == "it":
        return f"{public_date(at, tz, language)} alle {zoned_time(at, tz)}"
    return f"{zoned_time(at, tz)} on {public_date(at, tz, language)}"

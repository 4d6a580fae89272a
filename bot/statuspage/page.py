"""The public status page as HTML: Jinja2 with autoescape, CSS only, readable on a phone."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from bot.monitoring.history import DailyUptime
from bot.statuspage.public import UPTIME_DAYS, PublicStatus
from bot.statuspage.strings import Words, language_name
from bot.vocabulary import ComponentStatus, impact_status

TEMPLATES = Path(__file__).resolve().parent / "templates"

# Text colours on white (and white on them, in the banner): each at least 7:1, beyond WCAG AA.
TEXT_COLOURS = {
    ComponentStatus.OPERATIONAL: "#116329",
    ComponentStatus.UNDER_MAINTENANCE: "#0550ae",
    ComponentStatus.DEGRADED_PERFORMANCE: "#7d4e00",
    ComponentStatus.PARTIAL_OUTAGE: "#953800",
    ComponentStatus.MAJOR_OUTAGE: "#a40e26",
}
# Uptime bars are graphics, so 3:1 against the page suffices (WCAG 1.4.11); every bar also
# carries its day and figure as text.
BAR_COLOURS = {
    "ok": "#1a7f37",
    "minor": "#9a6700",
    "partial": "#bc4c00",
    "major": "#cf222e",
    "none": "#8c959f",
}
PAGE_TEXT = "#1f2328"
MUTED_TEXT = "#57606a"
LINK = "#0550ae"
BACKGROUND = "#ffffff"
PANEL = "#f6f8fa"

# A small mark beside each status, so it reads without colour (and in forced-colours mode).
SYMBOLS = {
    ComponentStatus.OPERATIONAL: "✓",
    ComponentStatus.UNDER_MAINTENANCE: "◆",
    ComponentStatus.DEGRADED_PERFORMANCE: "▲",
    ComponentStatus.PARTIAL_OUTAGE: "▲",
    ComponentStatus.MAJOR_OUTAGE: "✕",
}


@dataclass(frozen=True)
class Day:
    level: str  # ok | minor | partial | major | none
    label: str  # "22 Nov 2026: 99.2% uptime"


def day_level(day: DailyUptime) -> str:
    if not day.total:
        return "none"
    ratio = day.ok / day.total
    if ratio >= 0.995:
        return "ok"
    if ratio >= 0.97:
        return "minor"
    if ratio >= 0.90:
        return "partial"
    return "major"


def stylesheet() -> str:
    """The page's CSS with the palette above filled in."""
    variables = {
        "text": PAGE_TEXT,
        "muted": MUTED_TEXT,
        "link": LINK,
        "bg": BACKGROUND,
        "panel": PANEL,
        **{f"status-{s.value}": colour for s, colour in TEXT_COLOURS.items()},
        **{f"bar-{level}": colour for level, colour in BAR_COLOURS.items()},
    }
    root = ":root{" + "".join(f"--{k}:{v};" for k, v in variables.items()) + "}\n"
    return root + (TEMPLATES / "page.css").read_text(encoding="utf-8")


class PageRenderer:
    def __init__(
        self, timezone: str, languages: list[str], subscribe_url: str | None = None
    ) -> None:
        self._env = Environment(
            loader=FileSystemLoader(str(TEMPLATES)),
            autoescape=True,  # comms' words and component names are text, never markup
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._template = self._env.get_template("page.html.j2")
        self._timezone = timezone
        self._languages = languages
        # Where the "get updates by email" form posts; None: email subscriptions are off.
        self._subscribe_url = subscribe_url
        self.css = stylesheet()
        digest = hashlib.sha256(self.css.encode()).digest()
        # The page runs no script at all; the one inline stylesheet is allowed by its hash, and
        # the only form may post only to the subscription route.
        form_action = subscribe_url or "'none'"
        self.content_security_policy = (
            "default-src 'none'; "
            f"style-src 'sha256-{base64.b64encode(digest).decode()}'; "
            f"base-uri 'none'; form-action {form_action}; frame-ancestors 'none'"
        )

    def render(self, status: PublicStatus) -> str:
        words = Words(status.language)
        tz = self._tz()
        names = {c.id: c.name for c in status.components}
        return self._template.render(
            s=status,
            t=words,
            css=Markup(self.css),  # our own file, not text from anyone: kept verbatim
            zone=self._timezone,
            languages=[(code, language_name(code)) for code in self._languages],
            moment=lambda at: words.moment(at, tz),
            names=lambda ids: ", ".join(names.get(i, i) for i in ids),
            days=lambda days: [self._day(d, words) for d in days],
            uptime=lambda ratio: (
                words("uptime_90", percent=words.percent(ratio))
                if ratio is not None
                else words("uptime_90_none")
            ),
            overall_symbol=SYMBOLS[status.overall],
            symbol=lambda s: SYMBOLS[s],
            impact_status=impact_status,
            uptime_days=UPTIME_DAYS,
            subscribe_url=self._subscribe_url,
        )

    def _day(self, day: DailyUptime, words: Words) -> Day:
        when = words.day(day.day)
        if not day.total:
            return Day("none", words("day_none", day=when))
        percent = words.percent(day.ok / day.total, decimals=1)
        return Day(day_level(day), words("day_uptime", day=when, percent=percent))

    def _tz(self) -> ZoneInfo:
        return ZoneInfo(self._timezone)

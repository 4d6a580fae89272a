"""The page's own words in English and Italian; dates and numbers as its readers write them."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.timefmt import day_name, month_name, zoned_time
from bot.vocabulary import ComponentStatus

# Each language named in itself, so a reader finds theirs whatever the page is in.
ENDONYMS = {
    "en": "English",
    "it": "Italiano",
    "de": "Deutsch",
    "fr": "Français",
    "es": "Español",
    "pt": "Português",
    "nl": "Nederlands",
}

_EN: dict[str, str] = {
    "title": "Service status",
    "skip": "Skip to main content",
    "language": "Language",
    "overall.operational": "All systems operational",
    "overall.under_maintenance": "Maintenance in progress",
    "overall.degraded_performance": "Degraded performance",
    "overall.partial_outage": "Partial outage",
    "overall.major_outage": "Major outage",
    "as_of": "Status as of {time}",
    "components": "Components",
    "uptime_90": "{percent} uptime over the last 90 days",
    "uptime_90_none": "No uptime data for the last 90 days",
    "day_uptime": "{day}: {percent} uptime",
    "day_none": "{day}: no data",
    "bars_label": "Daily uptime of {name}, last 90 days",
    "ninety_days_ago": "90 days ago",
    "today": "Today",
    "active": "Active incidents",
    "maintenance": "Maintenance",
    "past": "Past incidents (last 14 days)",
    "no_past": "No incidents in the last 14 days.",
    "affects": "Affects: {names}",
    "window": "From {start} to {end}",
    "posted": "Posted {time}",
    "updates_label": "Updates",
    "times_in": "Times are shown in {zone}.",
    "feed": "Atom feed",
    "summary": "JSON summary",
    "subscribe": "Follow updates",
    "status.operational": "Operational",
    "status.under_maintenance": "Under maintenance",
    "status.degraded_performance": "Degraded performance",
    "status.partial_outage": "Partial outage",
    "status.major_outage": "Major outage",
    "incident.investigating": "Investigating",
    "incident.identified": "Identified",
    "incident.monitoring": "Monitoring",
    "incident.resolved": "Resolved",
    "incident.maintenance": "Maintenance",
    "incident.scheduled": "Scheduled",
    "incident.in_progress": "In progress",
    "feed_title": "Service status: statements",
    "email_updates": "Get updates by email",
    "email_label": "Email address",
    "subscribe_button": "Subscribe",
    "email_note": "We send a confirmation link first; every mail has a link to unsubscribe.",
}

_IT: dict[str, str] = {
    "title": "Stato dei servizi",
    "skip": "Vai al contenuto principale",
    "language": "Lingua",
    "overall.operational": "Tutti i servizi sono operativi",
    "overall.under_maintenance": "Manutenzione in corso",
    "overall.degraded_performance": "Prestazioni ridotte",
    "overall.partial_outage": "Interruzione parziale del servizio",
    "overall.major_outage": "Interruzione grave del servizio",
    "as_of": "Stato aggiornato al {time}",
    "components": "Servizi",
    "uptime_90": "Disponibilità del {percent} negli ultimi 90 giorni",
    "uptime_90_none": "Nessun dato di disponibilità negli ultimi 90 giorni",
    "day_uptime": "{day}: disponibilità del {percent}",
    "day_none": "{day}: nessun dato",
    "bars_label": "Disponibilità giornaliera di {name}, ultimi 90 giorni",
    "ninety_days_ago": "90 giorni fa",
    "today": "Oggi",
    "active": "Incidenti in corso",
    "maintenance": "Manutenzione",
    "past": "Incidenti passati (ultimi 14 giorni)",
    "no_past": "Nessun incidente negli ultimi 14 giorni.",
    "affects": "Servizi coinvolti: {names}",
    "window": "Dal {start} al {end}",
    "posted": "Pubblicato il {time}",
    "updates_label": "Aggiornamenti",
    "times_in": "Gli orari sono indicati nel fuso orario {zone}.",
    "feed": "Feed Atom",
    "summary": "Riepilogo JSON",
    "subscribe": "Segui gli aggiornamenti",
    "status.operational": "Operativo",
    "status.under_maintenance": "In manutenzione",
    "status.degraded_performance": "Prestazioni ridotte",
    "status.partial_outage": "Interruzione parziale",
    "status.major_outage": "Interruzione grave",
    "incident.investigating": "Analisi in corso",
    "incident.identified": "Causa individuata",
    "incident.monitoring": "In osservazione",
    "incident.resolved": "Risolto",
    "incident.maintenance": "Manutenzione",
    "incident.scheduled": "Programmata",
    "incident.in_progress": "In corso",
    "feed_title": "Stato dei servizi: comunicazioni",
    "email_updates": "Ricevi gli aggiornamenti via email",
    "email_label": "Indirizzo email",
    "subscribe_button": "Iscriviti",
    "email_note": (
        "Ti invieremo prima un link di conferma; ogni messaggio contiene un link per annullare "
        "l'iscrizione."
    ),
}

_STRINGS = {"en": _EN, "it": _IT}


@dataclass(frozen=True)
class Words:
    """The page's strings and formats in one language (English where it has none of its own)."""

    language: str

    def __call__(self, key: str, **values: str) -> str:
        table = _STRINGS.get(self.language, _EN)
        text = table.get(key, _EN[key])
        return text.format(**values) if values else text

    def status(self, status: ComponentStatus) -> str:
        return self(f"status.{status.value}")

    def overall(self, status: ComponentStatus) -> str:
        return self(f"overall.{status.value}")

    def incident_status(self, status: str) -> str:
        key = f"incident.{status}"
        return self(key) if key in _EN else status

    def day(self, day: date) -> str:
        """`22 Nov 2026` / `22 nov 2026`."""
        language = self.language if month_name(1, self.language) else "en"
        return day_name(day, language, short=True)

    def moment(self, at: datetime, tz: ZoneInfo) -> str:
        """`22 Nov 2026, 11:30 CET` in the page's time zone."""
        return f"{self.day(at.astimezone(tz).date())}, {zoned_time(at, tz)}"

    def percent(self, ratio: float, decimals: int = 2) -> str:
        """Rounded down, so a day with any failure never reads as 100%; `99,2%` in Italian."""
        scale = 10**decimals
        value = math.floor(ratio * 100 * scale) / scale
        text = f"{value:.{decimals}f}".rstrip("0").rstrip(".")
        if self.language == "it":
            text = text.replace(".", ",")
        return f"{text}%"


def language_name(language: str) -> str:
    return ENDONYMS.get(language, language.upper())

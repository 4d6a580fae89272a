"""The post-mortem report: a Markdown document built from an incident's record and timeline."""

from __future__ import annotations

from datetime import datetime

from bot.config import Config
from bot.durations import format_duration
from bot.incidents.messaging import component_names
from bot.incidents.models import SYSTEM_ACTOR, Incident, TimelineEntry
from bot.incidents.without_word import impact_start, without_word
from bot.timefmt import local_time


def _who(actor: str) -> str:
    return actor if actor == SYSTEM_ACTOR else f"@{actor}"


def render_postmortem(
    config: Config,
    incident: Incident,
    timeline: list[TimelineEntry],
    related: list[Incident],
    now: datetime,
) -> str:
    end = incident.resolved_at or now
    status = "resolved" if incident.resolved_at else f"still {incident.status.value}"
    lines = [
        f"# {incident.id}: {incident.title}",
        "",
        "## Summary",
        "",
        f"- Severity: {incident.sev}",
        f"- Status: {status}",
        f"- Commander: {_who(incident.commander) if incident.commander else 'none'}",
        f"- Reporter: {_who(incident.reporter)}",
        f"- Components: {component_names(config, incident.components)}",
        "",
        "## Impact",
        "",
        f"- Start: {local_time(impact_start(incident), config.tz)}",
        f"- End: {local_time(end, config.tz) if incident.resolved_at else 'ongoing'}",
        f"- Duration: {format_duration(end - impact_start(incident))}",
        f"- Customers without word: {without_word(incident, timeline, now).describe()}",
        "",
        "## Timeline",
        "",
        "| time | who | what |",
        "|---|---|---|",
    ]
    for entry in timeline:
        text = entry.text.replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {local_time(entry.at, config.tz)} | {_who(entry.actor)} | {text} |")
    statements = [e for e in timeline if e.kind.startswith("statement")]
    lines += ["", "## Customer statements", ""]
    if statements:
        lines += [f"- {local_time(e.at, config.tz)}: {e.text}" for e in statements]
    else:
        lines.append("- none published")
    lines += ["", "## Related incidents", ""]
    if related:
        lines += [
            f"- {r.id}: {r.title} ({r.status.value}, opened {local_time(r.created_at, config.tz)})"
            for r in related
        ]
    else:
        lines.append("- none")
    lines += ["", "## Follow-up actions", "", "- [ ] ", ""]
    return "\n".join(lines)

"""How incidents read in chat: the incident card, timeline replies and managers' one-liners."""

from __future__ import annotations

from datetime import datetime

from bot.chat.message import Message, mention
from bot.config import Config
from bot.durations import format_duration
from bot.incidents.models import Incident, TimelineEntry


def actor_name(actor: str) -> str:
    return "statusbot" if actor == "statusbot" else mention(actor)


def component_names(config: Config, ids: list[str]) -> str:
    return ", ".join(config.component_name(c) for c in ids) or "none named"


def local_time(config: Config, at: datetime) -> str:
    local = at.astimezone(config.tz)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def headline(incident: Incident) -> str:
    """`INC-7 (sev2, identified): Login fails for card holders`."""
    return f"{incident.id} ({incident.sev}, {incident.status.value}): {incident.title}"


def render_card(config: Config, incident: Incident, now: datetime) -> Message:
    """The incident's first post, kept up to date: everything at a glance."""
    if incident.resolved_at:
        duration = f"resolved after {format_duration(incident.resolved_at - incident.created_at)}"
    else:
        duration = f"open for {format_duration(now - incident.created_at)}"
    fields = [
        ("Status", incident.status.value),
        ("Severity", incident.sev),
        ("Commander", mention(incident.commander) if incident.commander else "nobody yet"),
        ("Reporter", mention(incident.reporter)),
        ("Components", component_names(config, incident.components)),
        ("Opened", local_time(config, incident.created_at)),
    ]
    if incident.links:
        fields.append(("Related", ", ".join(f"INC-{n}" for n in incident.links)))
    if incident.channel_name:
        fields.append(("Channel", f"#{incident.channel_name}"))
    return Message(
        text=headline(incident),
        title=headline(incident),
        emoji=":rotating_light:" if incident.is_open else ":white_check_mark:",
        fields=tuple(fields),
        context=f"{duration} · /incident show {incident.id} for the timeline",
    )


def render_entry(incident: Incident, entry: TimelineEntry) -> Message:
    """A timeline entry as a reply in the incident's thread."""
    text = f"{incident.id} {entry.text}"
    return Message(text=text, context=f"by {actor_name(entry.actor)}")


def render_manager_line(incident: Incident, entry: TimelineEntry) -> Message:
    """One line for managers: what changed, on which incident, how bad."""
    return Message(text=f"{incident.id} ({incident.sev}, {incident.status.value}) {entry.text}")

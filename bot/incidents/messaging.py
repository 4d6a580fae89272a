"""How incidents read in chat: the incident card, timeline replies and managers' one-liners."""

from __future__ import annotations

from datetime import datetime

from bot.chat.message import Message, mention
from bot.config import Config
from bot.durations import format_duration
from bot.incidents.models import SYSTEM_ACTOR, Incident, TimelineEntry
from bot.incidents.without_word import without_word
from bot.timefmt import local_time
from bot.vocabulary import incident_id


def actor_name(actor: str) -> str:
    return SYSTEM_ACTOR if actor == SYSTEM_ACTOR else mention(actor)


def component_names(config: Config, ids: list[str]) -> str:
    return ", ".join(config.component_name(c) for c in ids) or "none named"


def incident_ids(numbers: list[int]) -> str:
    """`INC-3, INC-5`: related incidents as people type them."""
    return ", ".join(incident_id(n) for n in numbers)


def commander_name(incident: Incident) -> str:
    return mention(incident.commander) if incident.commander else "nobody yet"


def headline(incident: Incident) -> str:
    """`INC-7 (sev2, identified): Login fails for card holders`."""
    return f"{incident.id} ({incident.sev}, {incident.status.value}): {incident.title}"


def render_card(config: Config, incident: Incident, now: datetime) -> Message:
    """The incident's first post, kept up to date: everything at a glance."""
    if incident.resolved_at:
        duration = f"resolved after {format_duration(incident.resolved_at - incident.created_at)}"
    else:
        duration = f"open for {format_duration(now - incident.created_at)}"
    fields = _facts(config, incident)
    if incident.links:
        fields.append(("Related", incident_ids(incident.links)))
    if incident.channel_name:
        fields.append(("Channel", f"#{incident.channel_name}"))
    return Message(
        text=headline(incident),
        title=headline(incident),
        tone="incident" if incident.is_open else "resolved",
        fields=tuple(fields),
        context=f"{duration} · /incident show {incident.id} for the timeline",
    )


def _facts(config: Config, incident: Incident) -> list[tuple[str, str]]:
    return [
        ("Status", incident.status.value),
        ("Severity", incident.sev),
        ("Commander", commander_name(incident)),
        ("Reporter", mention(incident.reporter)),
        ("Components", component_names(config, incident.components)),
        ("Opened", local_time(incident.created_at, config.tz)),
    ]


def render_details(
    config: Config, incident: Incident, timeline: list[TimelineEntry], now: datetime
) -> Message:
    """`/incident show`: the facts first, then the whole timeline."""
    fields = (
        *_facts(config, incident),
        ("Customers without word", without_word(incident, timeline, now).describe()),
        ("Related", incident_ids(incident.links) or "none"),
    )
    lines = tuple(
        f"{local_time(e.at, config.tz)} · {actor_name(e.actor)} · {e.text}" for e in timeline
    )
    return Message(
        text=headline(incident),
        title=headline(incident),
        fields=fields,
        lines=("Timeline:", *lines),
        fields_first=True,
    )


def render_list(config: Config, incidents: list[Incident], now: datetime) -> Message:
    """`/incident list`: one line per open incident."""
    if not incidents:
        return Message(text="No open incidents.")
    lines = tuple(
        f"{headline(i)} · {format_duration(now - i.created_at)} · "
        f"{component_names(config, i.components)}"
        for i in incidents
    )
    count = len(incidents)
    return Message(
        text=f"{count} open incident{'' if count == 1 else 's'}",
        title="Open incidents",
        lines=lines,
    )


def render_entry(incident: Incident, entry: TimelineEntry) -> Message:
    """A timeline entry as a reply in the incident's thread."""
    text = f"{incident.id} {entry.text}"
    return Message(text=text, context=f"by {actor_name(entry.actor)}")


def render_manager_line(incident: Incident, entry: TimelineEntry) -> Message:
    """One line for managers: what changed, on which incident, how bad."""
    return Message(text=f"{incident.id} ({incident.sev}, {incident.status.value}) {entry.text}")

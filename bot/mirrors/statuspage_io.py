"""Keeps an existing Atlassian Statuspage page in step with the statements comms approve.

Only published statements are mirrored (the mirror listens to publication, never to drafts),
and only their public name and text in the page's language (the first configured one): the
internal title never leaves. The first published statement of an incident creates an incident
there, later ones update it, the resolved one resolves it with its components operational. A
maintenance notice becomes scheduled maintenance there, which Statuspage starts and completes
by itself at the window's times.

Each publication is one delivery in the outbox, in a lane per incident, so an update always
waits for the create that gives it the incident's ID there. The ID is kept in the store against
our incident. A create whose answer was lost (or whose process died mid-request) is looked for
among the page's unresolved incidents, by name and time, before it is sent again: one incident
there per incident here.
"""

from __future__ import annotations

import logging
import ssl
from datetime import UTC, datetime
from typing import Any

from bot.chat.adapter import DeliveryError
from bot.chat.message import Message
from bot.chat.outbox import Delivery, Outbox
from bot.chat.poster import Poster
from bot.config import Config, Maintenance, StatuspageIo
from bot.incidents.service import IncidentError, IncidentService
from bot.mirrors.statuspage_api import StatuspageApi
from bot.settings import Settings
from bot.statements.models import Statement
from bot.statements.service import window_key
from bot.store.keyvalue import KeyValue
from bot.vocabulary import ComponentStatus, IncidentStatus, incident_id

log = logging.getLogger(__name__)

PLATFORM = "statuspage_io"  # the outbox sender's name, in logs and metrics
_REMOTE_IDS = "statuspage_io:incidents"  # hash: our subject -> the incident's ID there
_CREATING = "statuspage_io:creating"  # hash: our subject -> the create delivery under way
# A lost create is adopted only if it was made after its delivery was queued, give or take
# this much disagreement between our clock and Statuspage's.
_CLOCK_SKEW = 600.0


class StatuspageMirror:
    """Turns published statements into outbox deliveries, and delivers them (an outbox Sender)."""

    def __init__(
        self,
        config: Config,
        mirror: StatuspageIo,
        api: StatuspageApi,
        kv: KeyValue,
        incidents: IncidentService,
        poster: Poster,
        outbox: Outbox,
    ) -> None:
        self._config = config
        self._mirror = mirror
        self._api = api
        self._incidents = incidents
        self._poster = poster
        self._outbox = outbox
        self._kv = kv

    def describe(self) -> str:
        mapped = len(self._mirror.components)
        return (
            f"statuspage.io: approved statements are mirrored to page {self._mirror.page_id} "
            f"({mapped} component{'' if mapped == 1 else 's'} mapped)"
        )

    async def remote_id(self, subject: str) -> str | None:
        """The ID there of `incident:<n>` or `maintenance:<key>`, once it is created."""
        return await self._kv.hget(_REMOTE_IDS, subject)

    # -- publication: queue the request ---------------------------------------------------------

    async def on_published(self, statement: Statement) -> None:
        if statement.incident is not None:
            subject = f"incident:{statement.incident}"
            about = f"{incident_id(statement.incident)} {statement.status}"
            fields = await self._incident_fields(statement, statement.incident)
        else:
            window = self._window(statement.maintenance or "")
            if window is None:
                log.warning(
                    "statuspage.io: maintenance %s is no longer configured; not mirrored",
                    statement.maintenance,
                )
                return
            subject = f"maintenance:{statement.maintenance}"
            about = f"maintenance {window.start.isoformat()}"
            fields = self._maintenance_fields(statement, window)
        await self._outbox.enqueue(
            Delivery(
                lane=f"{PLATFORM}:{subject}",
                kind=PLATFORM,
                platform=PLATFORM,
                channel=self._mirror.page_id,
                message=Message(text=f"Statuspage.io: {about}"),
                payload={"subject": subject, "incident": fields},
            )
        )

    async def _incident_fields(self, statement: Statement, number: int) -> dict[str, Any]:
        incident = await self._incidents.get(number)
        ids = self._their_components(incident.components)
        # A resolved statement gives the components back; otherwise they take the incident's
        # impact, as they do on our own page.
        if statement.status == IncidentStatus.RESOLVED.value:
            status = ComponentStatus.OPERATIONAL
        else:
            status = incident.impact
        return {
            **self._words(statement),
            "status": statement.status,
            "component_ids": ids,
            "components": {their_id: status.value for their_id in ids},
        }

    def _maintenance_fields(self, statement: Statement, window: Maintenance) -> dict[str, Any]:
        return {
            **self._words(statement),
            "status": "scheduled",
            "scheduled_for": _utc(window.start),
            "scheduled_until": _utc(window.end),
            # Statuspage moves it to in progress and completed at those times, and the
            # components to under maintenance and back, as our page does.
            "scheduled_auto_in_progress": True,
            "scheduled_auto_completed": True,
            "auto_transition_to_maintenance_state": True,
            "auto_transition_to_operational_state": True,
            "component_ids": self._their_components(window.components),
        }

    def _words(self, statement: Statement) -> dict[str, str]:
        """The public name and text in the page's language: nothing else of ours is sent."""
        language = self._config.languages[0]
        name = statement.name.get(language) or next(iter(statement.name.values()), "")
        body = statement.texts.get(language) or next(iter(statement.texts.values()), "")
        return {"name": name, "body": body}

    def _their_components(self, ours: list[str]) -> list[str]:
        mapping = self._mirror.components
        return list(dict.fromkeys(mapping[c] for c in ours if c in mapping))

    def _window(self, key: str) -> Maintenance | None:
        return next((w for w in self._config.maintenance if window_key(w) == key), None)

    # -- delivery (the outbox's Sender) ---------------------------------------------------------

    async def send(self, delivery: Delivery) -> None:
        subject = str(delivery.payload["subject"])
        fields: dict[str, Any] = delivery.payload["incident"]
        try:
            remote_id = await self.remote_id(subject)
            if remote_id is None:
                await self._create(delivery, subject, fields)
            else:
                await self._api.update_incident(remote_id, fields)
        except DeliveryError as exc:
            if exc.permanent:
                log.error("Statuspage.io refused %s: %s", delivery.message.text, exc.reason)
                await self._tell_refusal(subject, exc.reason)
            raise

    async def _create(self, delivery: Delivery, subject: str, fields: dict[str, Any]) -> None:
        # An earlier attempt of this very delivery went out (its answer was lost, or the process
        # stopped before saving the ID): it may have created the incident already.
        begun = await self._kv.hget(_CREATING, subject)
        if delivery.uncertain or begun == delivery.id:
            found = await self._find_created(subject, fields, delivery.created_at - _CLOCK_SKEW)
            if found is not None:
                log.info("statuspage.io: %s was created by an earlier attempt", subject)
                await self._remember(subject, found)
                return
        await self._kv.hset(_CREATING, {subject: delivery.id})
        remote_id = await self._api.create_incident(fields)
        await self._remember(subject, remote_id)

    async def _remember(self, subject: str, remote_id: str) -> None:
        await self._kv.hset(_REMOTE_IDS, {subject: remote_id})
        await self._kv.hdel(_CREATING, subject)

    async def _find_created(self, subject: str, fields: dict[str, Any], since: float) -> str | None:
        """The incident a lost create made: unresolved (or upcoming, for maintenance) there,
        with the same name, made since the delivery was queued, and no other of ours."""
        listing = await self._api.unresolved_incidents()
        if subject.startswith("maintenance:"):
            listing += await self._api.upcoming_incidents()
        taken = set((await self._kv.hgetall(_REMOTE_IDS)).values())
        found = [
            item
            for item in listing
            if item.get("name") == fields["name"]
            and isinstance(item.get("id"), str)
            and item["id"] not in taken
            and _created_at(item) >= since
        ]
        if not found:
            return None
        return str(max(found, key=_created_at)["id"])

    async def _tell_refusal(self, subject: str, reason: str) -> None:
        """People should know the other page is behind: one line where the incident is run."""
        message = Message(text=f"Statuspage.io refused the update: {reason}", tone="warning")
        kind, _, key = subject.partition(":")
        if kind == "incident":
            try:
                incident = await self._incidents.get(int(key))
            except IncidentError:
                return
            await self._incidents.post_in_incident(incident, message)
        else:
            await self._poster.post("incidents", message, lane=f"{kind}:{key}")

    async def aclose(self) -> None:
        await self._api.aclose()


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _created_at(item: dict[str, Any]) -> float:
    """When Statuspage says it made an incident (epoch seconds); now when it does not say."""
    raw = item.get("created_at")
    try:
        return datetime.fromisoformat(str(raw)).timestamp() if raw else _now()
    except ValueError:
        return _now()


def _now() -> float:
    return datetime.now(UTC).timestamp()


def half_configured(settings: Settings, config: Config) -> str | None:
    """Why the mirror is off although half of it is set up, in one line; None otherwise."""
    has_key = settings.statuspage_api_key is not None and bool(
        settings.statuspage_api_key.get_secret_value()
    )
    if config.statuspage_io is not None and not has_key:
        return (
            "statuspage.io: the config has a statuspage_io section but STATUSPAGE_API_KEY is "
            "not set: nothing is mirrored to that page"
        )
    if has_key and config.statuspage_io is None:
        return (
            "statuspage.io: STATUSPAGE_API_KEY is set but the config has no statuspage_io "
            "section (page_id, components): nothing is mirrored"
        )
    return None


def build_statuspage_mirror(
    settings: Settings,
    config: Config,
    kv: KeyValue,
    incidents: IncidentService,
    poster: Poster,
    outbox: Outbox,
    ssl_context: ssl.SSLContext | None,
) -> StatuspageMirror | None:
    """The mirror, registered with the outbox, when both the config and the key are given."""
    key = settings.statuspage_api_key
    if config.statuspage_io is None or key is None or not key.get_secret_value():
        return None
    api = StatuspageApi(settings.statuspage_api_url, key, config.statuspage_io.page_id, ssl_context)
    mirror = StatuspageMirror(config, config.statuspage_io, api, kv, incidents, poster, outbox)
    outbox.register(PLATFORM, mirror)
    return mirror

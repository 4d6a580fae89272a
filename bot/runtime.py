"""One statusbot process: the store, outbox, monitor, incidents, statements and HTTP server.

It knows chat platforms only through the adapters it is given and what they can do; which
adapters exist is decided by the composition root (bot/wiring.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import ssl
from collections.abc import Callable, Coroutine, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.access import Policy
from bot.chat.adapter import ChannelCreator, ChatAdapter, GroupDirectory
from bot.chat.outbox import Outbox
from bot.chat.poster import CHANNEL_KINDS, Poster
from bot.config import Config
from bot.incidents.cadence import Cadence
from bot.incidents.service import IncidentService
from bot.incidents.store import IncidentStore
from bot.leader import LeaderLease
from bot.metrics import Metrics
from bot.mirrors.statuspage_io import build_statuspage_mirror, half_configured
from bot.monitoring.alertmanager.receiver import AlertReceiver
from bot.monitoring.alertmanager.signals import AlertSignals
from bot.monitoring.alertmanager.watch import SignalWatcher
from bot.monitoring.alerts import Alerter
from bot.monitoring.checks.probe import ProbeContext, build_ssl_context, make_http_client
from bot.monitoring.monitor import Monitor
from bot.monitoring.partitions import Partitions
from bot.monitoring.records import Records
from bot.settings import Settings
from bot.statements.service import StatementService
from bot.statements.templates import StatementTemplates, shipped_templates
from bot.statements.word_metrics import WithoutWordMetrics
from bot.status_report import StatusReport
from bot.statuspage import PublicFiles, StatusPage, add_status_page_routes
from bot.store import open_keyvalue
from bot.store.keyvalue import KeyValue
from bot.subscribers import add_subscriber_routes, build_subscriptions
from bot.web import add_alertmanager_route, create_web_app

log = logging.getLogger(__name__)


class Runtime:
    """One statusbot process."""

    def __init__(
        self,
        settings: Settings,
        config: Config,
        *,
        adapters: Mapping[str, ChatAdapter],
        kv: KeyValue | None = None,
        ssl_context: ssl.SSLContext | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        lease_ttl: timedelta = timedelta(seconds=15),
        first_run_within: timedelta | None = None,
    ) -> None:
        self.settings = settings
        self.config = config
        self.clock = clock
        self.kv = kv or open_keyvalue(
            settings.redis_url.get_secret_value() if settings.redis_url else None,
            settings.redis_prefix,
        )
        self.metrics = Metrics()
        # Loading the CA bundle is slow: once for the probes and the chat platforms alike.
        self.ssl_context = ssl_context or build_ssl_context(settings.ssl_cert_file)
        ssl_context = self.ssl_context
        self.adapters = dict(adapters)
        self.outbox = Outbox(self.kv, self.adapters, self.metrics)
        self.poster = Poster(config, self.outbox)
        self.incident_store = IncidentStore(self.kv)
        chats = list(self.adapters.values())
        self.incidents = IncidentService(
            config,
            self.incident_store,
            self.poster,
            clock,
            channels=next((a for a in chats if isinstance(a, ChannelCreator)), None),
        )
        self.alerter = Alerter(
            config, self.kv, self.poster, self.metrics, clock, self.incidents.recurrences
        )
        self.http = make_http_client(ssl_context, max_connections=config.monitor.max_concurrency)
        self.probe = ProbeContext(http=self.http, ssl_context=ssl_context)
        self.records = Records.in_store(config, self.kv)
        self.monitor = Monitor(config, self.records, self.probe, self.alerter, self.metrics, clock)
        self.report = StatusReport(config, self.records, self.incident_store, clock)
        self.access = Policy(config.roles, [a for a in chats if isinstance(a, GroupDirectory)])
        self.cadence = Cadence(config, self.kv, self.incidents, self.poster, clock)
        self.statements = StatementService(
            config,
            self.kv,
            StatementTemplates(config.statements.templates or shipped_templates()),
            self.incidents,
            self.poster,
            self.access,
            clock,
        )
        self.incidents.listeners.append(self.statements.on_incident_change)
        self.incidents.outage_start = self.alerter.outage_start
        self.statements.published_listeners.append(
            WithoutWordMetrics(self.incidents, self.metrics).on_published
        )
        self.cadence.hooks.append(self.statements.tick)
        self.statuspage_io = build_statuspage_mirror(
            settings,
            config,
            self.kv,
            self.incidents,
            self.poster,
            self.outbox,
            ssl_context,
        )
        if self.statuspage_io is not None:
            self.statements.published_listeners.append(self.statuspage_io.on_published)
        self.lease = LeaderLease(self.kv, ttl=lease_ttl)
        # With Redis, replicas share the checks (partitions of components); embedded, the one
        # process runs them all.
        self.partitions = (
            Partitions(self.kv, self.lease.identity, ttl=lease_ttl)
            if self.kv.name == "redis"
            else None
        )
        self.web_app: web.Application = create_web_app(self.kv, self.metrics, self.outbox.depth)
        # Alertmanager's alerts: recorded by whichever replica receives them, acted on by the
        # owner of their component (the one that runs its checks), like a failing check.
        self.alert_signals = AlertSignals(self.kv)
        self.monitor.signals = self.report.signals = self.alerter.signals = self.alert_signals
        self.signal_watcher = SignalWatcher(config, self.alert_signals, clock)
        token = (
            settings.alertmanager_token.get_secret_value().strip()
            if settings.alertmanager_token
            else ""
        )
        # An empty token (`ALERTMANAGER_TOKEN=` in .env) would let anyone in: the webhook is off.
        if token:
            add_alertmanager_route(
                self.web_app,
                token,
                AlertReceiver(config, self.alert_signals, self.signal_watcher, self.metrics, clock),
                self.metrics,
            )
        # Customers' times are to the minute: replicas rendering the same state render the same
        # bytes (and ETags) whatever second they render at.
        page = StatusPage(
            config,
            settings.public_url,
            self.records,
            self.incident_store,
            self.statements,
            lambda: clock().replace(second=0, microsecond=0),
        )
        self.subscriptions = build_subscriptions(
            settings,
            config,
            self.kv,
            self.outbox,
            self.statements.store,
            page,
            self.metrics,
            ssl_context,
        )
        subscribe_url = f"{page.public_url}/subscribe" if self.subscriptions.by_email else None
        self.public = PublicFiles(page, settings.static_dir, subscribe_url=subscribe_url)
        add_status_page_routes(self.web_app, self.public)
        add_subscriber_routes(self.web_app, self.subscriptions, page.public_url)
        self.incidents.listeners.append(self.public.changed_async)
        self.statements.published_listeners.append(self.public.changed_async)
        self.statements.published_listeners.append(self.subscriptions.on_published)
        self.monitor.health_listeners.append(self.public.changed)
        # Started with the process on every replica (chat listeners: Socket Mode, the console).
        self.background: list[Callable[[], Coroutine[Any, Any, None]]] = []
        self._first_run_within = first_run_within
        self._runner: web.AppRunner | None = None
        self._scheduler: AsyncIOScheduler | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._leader_tasks: list[asyncio.Task[None]] = []
        self.port: int | None = None

    def describe(self) -> list[str]:
        """What a person starting the bot should know, one line each."""
        lines = []
        if self.kv.name == "embedded":
            lines.append(f"store: embedded, {self.kv.where} (REDIS_URL is not set)")
        else:
            lines.append(f"store: {self.kv.where}")
        platforms = ", ".join(sorted(self.adapters))
        lines.append(f"chat: {platforms}")
        lines.append(
            f"checks: {len(self.config.checks)} on {len(self.config.components)} components"
        )
        channels = self.config.channels
        kinds = [k for k in CHANNEL_KINDS if getattr(channels, k).teams_channel]
        if kinds and not any(a.destination_key == "teams_channel" for a in self.adapters.values()):
            lines.append(
                f"teams: channels.{{{','.join(kinds)}}}.teams_channel are configured, but "
                "TEAMS_APP_ID and TEAMS_APP_PASSWORD are not set: nothing is posted there"
            )
        mailing, webhooks = self.subscriptions.mailing, len(self.config.subscribers.webhooks)
        if mailing is not None:
            lines.append(
                f"subscribers: by email through {mailing.transport.server.where} from "
                f"{mailing.composer.sender}; {webhooks} webhook(s)"
            )
        else:
            lines.append(f"subscribers: {webhooks} webhook(s); email is off (SMTP_URL is not set)")
        if self.web_app.router.get("alertmanager") is not None:
            lines.append("alertmanager: webhook on at POST /webhooks/alertmanager (bearer token)")
        for role in ("responders", "comms"):
            if self.access.is_open(role):
                lines.append(f"roles: nobody is listed in roles.{role}, so everyone has that role")
        if self.statuspage_io is not None:
            lines.append(self.statuspage_io.describe())
        elif (warning := half_configured(self.settings, self.config)) is not None:
            lines.append(warning)
        return lines

    async def start(self, *, serve_http: bool = True) -> None:
        if not await self.kv.ping():
            raise RuntimeError(f"the {self.kv.name} store does not answer")
        if serve_http:
            self._runner = web.AppRunner(self.web_app, access_log=None)
            await self._runner.setup()
            site = web.TCPSite(self._runner, self.settings.host, self.settings.port)
            await site.start()
            self.port = _bound_port(self._runner)
            log.info("listening on http://%s:%s", self.settings.host, self.port)
        self._tasks.append(asyncio.create_task(self.lease.run(self._lead, self._step_down)))
        if self.partitions is not None:
            self._tasks.append(asyncio.create_task(self._share_checks(self.partitions)))
        # Alert decisions follow the checks: the partition's owner, or (embedded) the leader.
        partitions = self.partitions
        owns = partitions.owns if partitions is not None else lambda _: self.lease.is_leader
        self._tasks.append(
            asyncio.create_task(self.signal_watcher.run(owns, self.monitor.reconsider))
        )
        self._tasks.extend(asyncio.create_task(job()) for job in self.background)
        self._tasks.append(asyncio.create_task(self.public.keep_fresh()))
        _freeze_start_up_heap()

    async def _share_checks(self, partitions: Partitions) -> None:
        """Run the checks of this replica's partitions; follow them as replicas come and go."""
        self.monitor.schedule(owns=partitions.owns)
        first = True

        async def reassign() -> None:
            nonlocal first
            # Outages other replicas left are this one's now: read them before acting.
            await self.alerter.load()
            # At start the first runs spread over the interval; checks taken over from a
            # replica that died are overdue: they run within a few seconds.
            spread = self._first_run_within if first else partitions.tick_interval
            first = False
            self.monitor.reassign(partitions.owns, first_run_within=spread)

        try:
            await partitions.run(reassign)
        finally:
            await self.monitor.stop_running()

    async def _lead(self) -> None:
        # What the last leader left in the store (open outages, flapping) is this one's now:
        # read it at election, not at start, or a takeover would miss a recovery.
        await self.alerter.load()
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        if self.partitions is None:
            self.monitor.forget_states()
            self.monitor.schedule(first_run_within=self._first_run_within)
        self.cadence.schedule(self._scheduler)
        self._scheduler.start()
        self._leader_tasks.append(asyncio.create_task(self.outbox.run()))

    async def _step_down(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        if self.partitions is None:
            await self.monitor.stop_running()
        await _cancel(self._leader_tasks)

    async def stop(self) -> None:
        await _cancel(self._tasks)
        await self._step_down()
        if self._runner is not None:
            await self._runner.cleanup()
        await self.http.aclose()
        if self.statuspage_io is not None:
            await self.statuspage_io.aclose()
        await self.subscriptions.webhooks.aclose()
        for adapter in self.adapters.values():
            await adapter.aclose()
        await self.kv.close()


_heap_frozen = False


def _freeze_start_up_heap() -> None:
    """Once per process: take what start-up built (imports, config, templates, schemas), which
    lives as long as the process, out of the garbage collector's sight.

    Otherwise every full collection walks all of it again: ~200 ms here, during which no
    command is answered. Garbage is collected first so none of it is kept for good.
    """
    global _heap_frozen
    if not _heap_frozen:
        _heap_frozen = True
        gc.collect()
        gc.freeze()


async def _cancel(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    tasks.clear()


def _bound_port(runner: web.AppRunner) -> int | None:
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return int(address[1])
    return None

"""What the webhook does with a valid payload, on whichever replica Alertmanager reached."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from datetime import datetime

from bot.config import Config
from bot.metrics import Metrics
from bot.monitoring.alertmanager.payload import WebhookAlert, WebhookPayload
from bot.monitoring.alertmanager.signals import AlertSignals, ComponentMap
from bot.monitoring.alertmanager.watch import SignalWatcher

log = logging.getLogger(__name__)

# Outcomes of one received alert, as counted on /metrics.
OUTCOMES = ("firing", "resolved", "stale", "unknown_component")
_LOGGED_AT_MOST = 1000


class AlertReceiver:
    def __init__(
        self,
        config: Config,
        signals: AlertSignals,
        watcher: SignalWatcher,
        metrics: Metrics,
        clock: Callable[[], datetime],
    ) -> None:
        self._map = ComponentMap(config)
        self._label = config.alertmanager.component_label
        self._signals = signals
        self._watcher = watcher
        self._metrics = metrics
        self._clock = clock
        self._unknown_logged: set[tuple[str, str]] = set()

    async def receive(self, payload: WebhookPayload) -> dict[str, int]:
        """Record each alert as a signal of its component; how many had each outcome.

        An alert that names no known component is accepted all the same (refused, Alertmanager
        would send it again for ever) but changes nothing; it is logged once and counted."""
        now = self._clock()
        outcomes: Counter[str] = Counter()
        for alert in payload.alerts:
            component = self._map.component_of(alert.labels)
            if component is None:
                self._log_unknown(alert)
                outcomes["unknown_component"] += 1
                continue
            signal = self._map.signal(alert, component, now)
            recorded = await self._signals.record(signal, now)
            outcomes[alert.status if recorded else "stale"] += 1
        for outcome, count in outcomes.items():
            self._metrics.alertmanager_alerts.labels(outcome).inc(count)
        if payload.truncated_alerts:
            log.warning(
                "Alertmanager left %d alerts of group %s out of its webhook (the receiver's "
                "max_alerts): they are not seen here",
                payload.truncated_alerts,
                payload.group_key,
            )
        if outcomes["firing"] or outcomes["resolved"]:
            self._watcher.nudge()
        return {outcome: outcomes[outcome] for outcome in OUTCOMES}

    def _log_unknown(self, alert: WebhookAlert) -> None:
        value = alert.labels.get(self._label, "")
        key = (alert.alertname, value)
        if key in self._unknown_logged or len(self._unknown_logged) >= _LOGGED_AT_MOST:
            return
        self._unknown_logged.add(key)
        log.warning(
            "Alertmanager alert %r names no known component (label %s=%r, and no "
            "alertmanager.components entry for it or its alertname): accepted, ignored",
            alert.alertname[:100],
            self._label,
            value[:100],
        )

"""Prometheus metrics, on a registry per bot so several can share one process (tests)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
# Statement promises are minutes (sev1: 15m) to hours; the seeds' customers waited hours.
_WITHOUT_WORD_BUCKETS = (60, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400)
_LAG_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.checks_run = Counter(
            "statusbot_checks_total",
            "Checks run, by check and result",
            ["check", "result"],
            registry=r,
        )
        self.check_failures = Counter(
            "statusbot_check_failures_total", "Failed check runs, by check", ["check"], registry=r
        )
        self.check_latency = Histogram(
            "statusbot_check_duration_seconds",
            "Check response time, by component",
            ["component"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.schedule_lag = Histogram(
            "statusbot_check_schedule_lag_seconds",
            "How late a check started after its scheduled time",
            buckets=_LAG_BUCKETS,
            registry=r,
        )
        self.check_runs_skipped = Counter(
            "statusbot_check_runs_skipped_total",
            "Scheduled check runs dropped because the previous one was still running or too late",
            registry=r,
        )
        self.component_status = Gauge(
            "statusbot_component_status",
            "Component status: 0 operational, 1 under maintenance, 2 degraded, 3 partial, 4 major",
            ["component"],
            registry=r,
        )
        self.alerts_sent = Counter(
            "statusbot_alerts_total", "Alert posts queued, by kind", ["kind"], registry=r
        )
        self.outbox_depth = Gauge(
            "statusbot_outbox_depth", "Posts waiting in the outbox", registry=r
        )
        self.outbox_delivered = Counter(
            "statusbot_outbox_delivered_total",
            "Posts delivered, by platform",
            ["platform"],
            registry=r,
        )
        self.outbox_retries = Counter(
            "statusbot_outbox_retries_total",
            "Delivery attempts that will be retried",
            ["platform"],
            registry=r,
        )
        self.outbox_dead = Counter(
            "statusbot_outbox_dead_total",
            "Posts set aside after a permanent error",
            ["platform"],
            registry=r,
        )
        self.command_latency = Histogram(
            "statusbot_command_duration_seconds",
            "Time to answer a chat command, by platform",
            ["platform"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.without_word = Histogram(
            "statusbot_customers_without_word_seconds",
            "How long customers were without word: kind=first_word from the outage's start to "
            "the first published statement, kind=gap between published statements",
            ["kind"],
            buckets=_WITHOUT_WORD_BUCKETS,
            registry=r,
        )

        self.subscribers = Gauge(
            "statusbot_subscribers",
            "Email subscribers of the status page, by state (read at each scrape)",
            ["state"],
            registry=r,
        )
        self.subscriber_mails = Counter(
            "statusbot_subscriber_mails_total",
            "Mails to subscribers, by kind (confirmation, statement) and result (sent, failed)",
            ["kind", "result"],
            registry=r,
        )
        self.webhook_deliveries = Counter(
            "statusbot_webhook_deliveries_total",
            "Webhook POSTs of published statements, by result (delivered, failed)",
            ["result"],
            registry=r,
        )
        # Read before each scrape: gauges of what the store holds (a count of subscribers).
        self.before_scrape: list[Callable[[], Awaitable[None]]] = []

        self.alertmanager_alerts = Counter(
            "statusbot_alertmanager_alerts_total",
            "Alerts received on the Alertmanager webhook, by outcome: firing, resolved, stale "
            "(a late copy of what is known), unknown_component",
            ["outcome"],
            registry=r,
        )
        self.alertmanager_requests = Counter(
            "statusbot_alertmanager_requests_total",
            "Requests to the Alertmanager webhook, by answer: accepted, unauthorized, "
            "malformed, unavailable",
            ["result"],
            registry=r,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)

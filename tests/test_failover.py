"""Two replicas on one Redis: the one that takes over carries on the outage the other left."""

from __future__ import annotations

from datetime import timedelta

from bot.monitoring.state import CheckStates
from bot.runtime import Runtime
from bot.store import RedisKeyValue
from tests.support.builders import failure, success
from tests.support.slack_app import ALERTS, eventually, slack_config, start_runtime, stop_runtime
from tests.support.slack_mock import MockSlack

LEASE = timedelta(seconds=1.5)


async def test_a_takeover_neither_realerts_nor_misses_the_recovery(
    redis_url: str, unique_prefix: str
) -> None:
    slack = await MockSlack().start()
    first_kv = RedisKeyValue.from_url(redis_url, unique_prefix)
    second_kv = RedisKeyValue.from_url(redis_url, unique_prefix)
    config = slack_config()
    first = await start_runtime(config, first_kv, slack, lease_ttl=LEASE)
    await eventually(lambda: first.lease.is_leader, what="the first replica to lead")
    second = await start_runtime(config, second_kv, slack, lease_ttl=LEASE)
    try:
        check = next(c for c in config.checks if c.id == "web-home")
        for _ in range(3):
            await first.monitor.record(check, failure(check.id, first.clock()))
        await eventually(lambda: slack.posts(ALERTS), what="the outage alert")
        await eventually(lambda: drained(first), what="the first replica's outbox to drain")
        # The leader dies between writing the check's recovery and acting on it.
        state = await CheckStates(first_kv).get(check.id)
        for _ in range(2):
            state.observe(success(check.id, first.clock()), 3, 2)
        await CheckStates(first_kv).put(check.id, state)
        await stop_runtime(first)

        await eventually(lambda: second.lease.is_leader, timeout=5, what="the takeover")
        # The next (healthy, unchanged) result on the new leader closes the outage.
        await second.monitor.record(check, success(check.id, second.clock()))
        recovered = await eventually(
            lambda: [p for p in slack.posts(ALERTS) if p.args["text"].startswith("Recovered:")],
            what="the recovery",
        )
        assert len(recovered) == 1
        alerts = [p for p in slack.posts(ALERTS) if p.args["text"].startswith("Major outage")]
        assert len(alerts) == 1, "the takeover did not alert again"
    finally:
        await stop_runtime(second)
        await first_kv.close()
        await second_kv.close()
        await slack.stop()


async def drained(runtime: Runtime) -> bool:
    return await runtime.outbox.depth() == 0

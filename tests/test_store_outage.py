"""Redis goes away and comes back: the bot stays up, says so, keeps probing, and catches up."""

from __future__ import annotations

from pathlib import Path

import httpx

from bot.store import RedisKeyValue
from tests.support.builders import failure, success
from tests.support.redis_server import RedisServer
from tests.support.slack_app import ALERTS, eventually, running_bot

UNAVAILABLE = "The store is unavailable right now; try again in a moment."


async def test_a_redis_outage_is_ridden_out(tmp_path: Path, unique_prefix: str) -> None:
    server = await RedisServer(tmp_path).start()
    kv = RedisKeyValue.from_url(server.url, unique_prefix)
    try:
        async with running_bot(kv) as bot:
            runtime = bot.runtime
            base = f"http://127.0.0.1:{runtime.port}"
            await eventually(lambda: runtime.lease.is_leader, what="the bot to lead")
            assert (await bot.incident("open Checkout slow sev:3")).text.startswith(
                "Declared INC-1"
            )
            async with httpx.AsyncClient(base_url=base) as http:
                before = {p: (await http.get(p)).text for p in ("/", "/api/v2/summary.json")}

                await server.stop(kill=True)
                assert (await http.get("/readyz")).status_code == 503
                assert (await http.get("/healthz")).status_code == 200
                for path, body in before.items():
                    during = await http.get(path)
                    assert during.status_code == 200, path
                    assert during.text == body, "the last good copy"
                assert (await bot.status()).text == UNAVAILABLE
                assert (await bot.incident("update 1 Still slow")).text == UNAVAILABLE

                # Probing goes on; the outage starts with the first failing probe.
                check = next(c for c in runtime.config.checks if c.id == "web-home")
                first_failure = runtime.clock()
                for _ in range(3):
                    await runtime.monitor.record(check, failure(check.id, runtime.clock()))

                await server.start()  # same port, same AOF
                assert (await http.get("/readyz")).status_code == 200
            await runtime.monitor.record(check, failure(check.id, runtime.clock()))
            [alert] = await bot.posts(ALERTS, 1, timeout=10)
            local = first_failure.astimezone(runtime.config.tz)
            assert f"4 failures since {local:%H:%M}" in alert.args["text"]
            for _ in range(2):
                await runtime.monitor.record(check, success(check.id, runtime.clock()))
            await eventually(
                lambda: any(
                    p.args["text"].startswith("Recovered:") for p in bot.mock.posts(ALERTS)
                ),
                what="the recovery",
            )
            assert [i.number for i in await runtime.incidents.open_incidents()] == [1]
            assert (await bot.incident("update 1 Store back")).text == "Posted the update to INC-1."
    finally:
        await kv.close()
        await server.stop()

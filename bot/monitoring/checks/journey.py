"""The journey probe: several HTTP steps in order, sharing cookies, like a person logging in."""

from __future__ import annotations

import asyncio
import ssl
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx

from bot.config import JourneyCheck, JourneyStep
from bot.monitoring.checks.conditions import evaluate_conditions, uses_body
from bot.monitoring.checks.errors import describe_error
from bot.monitoring.checks.http import USER_AGENT, send_request
from bot.monitoring.checks.result import CheckResult, ConditionResult, Observation


async def run_journey(check: JourneyCheck, ssl_context: ssl.SSLContext) -> CheckResult:
    """Run the steps in order, each within the check's timeout; the first failing step ends it.

    Conditions on the check itself are evaluated after the last step, with [RESPONSE_TIME] as
    the whole journey's time.
    """
    started_at = datetime.now(UTC)
    total = timedelta(0)
    evaluated: list[ConditionResult] = []
    observation = Observation()
    # A fresh client per run: cookies from this run's login must not leak into the next run.
    async with _journey_client(ssl_context) as client:
        for number, step in enumerate(check.steps, start=1):
            label = step_label(number, step)
            clock = time.perf_counter()
            try:
                async with asyncio.timeout(check.timeout.total_seconds()):
                    observation = await send_request(
                        client, step, read_body=uses_body(step.effective_conditions())
                    )
            except Exception as error:  # every failure is a result, never an exception
                total += timedelta(seconds=time.perf_counter() - clock)
                host = urlsplit(step.url).hostname or step.url
                return CheckResult(
                    check_id=check.id,
                    success=False,
                    started_at=started_at,
                    duration=total,
                    conditions=tuple(evaluated),
                    error=describe_error(error, host=host, timeout=check.timeout),
                    step=label,
                )
            total += observation.response_time or timedelta(0)
            results = evaluate_conditions(step.effective_conditions(), observation)
            evaluated.extend(results)
            if not all(result.success for result in results):
                return CheckResult(
                    check_id=check.id,
                    success=False,
                    started_at=started_at,
                    duration=total,
                    conditions=tuple(evaluated),
                    status_code=observation.status,
                    step=label,
                    ip=observation.ip,
                )
    whole = replace(observation, response_time=total)
    evaluated.extend(evaluate_conditions(check.effective_conditions(), whole))
    return CheckResult(
        check_id=check.id,
        success=all(result.success for result in evaluated),
        started_at=started_at,
        duration=total,
        conditions=tuple(evaluated),
        status_code=observation.status,
        ip=observation.ip,
    )


def step_label(number: int, step: JourneyStep) -> str:
    """`step 2 (dashboard)`, named by the step's name or else its URL path."""
    return f"step {number} ({step.name or urlsplit(step.url).path or '/'})"


def _journey_client(ssl_context: ssl.SSLContext) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        verify=ssl_context,
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT},
        timeout=None,  # asyncio.timeout bounds each step
        limits=httpx.Limits(max_connections=4),
    )

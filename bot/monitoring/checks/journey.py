"""The journey probe: several HTTP steps in order, sharing cookies, like a person logging in.

A step may extract values from its response (`extract: {csrf: "[BODY].csrf"}`) that later
steps send as `{csrf}`, and send the current one-time code as `{totp}`. Those values are
secrets: every text that leaves the journey has them masked.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx

from bot.config import JourneyCheck, JourneyStep
from bot.monitoring.checks import placeholders
from bot.monitoring.checks.conditions import evaluate_conditions, uses_body
from bot.monitoring.checks.errors import describe_error
from bot.monitoring.checks.extraction import NotExtracted, parse_extraction
from bot.monitoring.checks.http import USER_AGENT, send_request
from bot.monitoring.checks.masking import Secrets, masking_logs
from bot.monitoring.checks.result import CheckResult, ConditionResult, Observation
from bot.monitoring.checks.result import step_label as _label
from bot.monitoring.checks.totp import current_code


async def run_journey(check: JourneyCheck, ssl_context: ssl.SSLContext) -> CheckResult:
    """Run the steps in order, each within the check's timeout; the first failing step ends it.

    Conditions on the check itself are evaluated after the last step, with [RESPONSE_TIME] as
    the whole journey's time.
    """
    secrets = Secrets()
    with masking_logs(secrets):
        return await _run(check, ssl_context, secrets)


async def _run(check: JourneyCheck, ssl_context: ssl.SSLContext, secrets: Secrets) -> CheckResult:
    started_at = datetime.now(UTC)
    total = timedelta(0)
    evaluated: list[ConditionResult] = []
    observation = Observation()
    values: dict[str, str] = {}

    def failed(label: str, *, error: str | None = None, answered: bool = True) -> CheckResult:
        return CheckResult(
            check_id=check.id,
            success=False,
            started_at=started_at,
            duration=total,
            conditions=tuple(evaluated),
            status_code=observation.status if answered else None,
            error=error,
            step=label,
            ip=observation.ip if answered else None,
        )

    # A fresh client per run: cookies from this run's login must not leak into the next run.
    async with _journey_client(ssl_context) as client:
        for number, step in enumerate(check.steps, start=1):
            label = step_label(number, step)
            if check.totp_secret is not None and _uses_totp(step):
                values[placeholders.TOTP] = current_code(check.totp_secret.get_secret_value())
                secrets.add(values[placeholders.TOTP])
            clock = time.perf_counter()
            try:
                async with asyncio.timeout(check.timeout.total_seconds()):
                    observation = await send_request(
                        client, _filled(step, values), read_body=_reads_body(step)
                    )
            except Exception as error:  # every failure is a result, never an exception
                total += timedelta(seconds=time.perf_counter() - clock)
                host = urlsplit(step.url).hostname or step.url
                reason = describe_error(error, host=host, timeout=check.timeout)
                return failed(label, error=secrets.mask(reason), answered=False)
            total += observation.response_time or timedelta(0)
            # Extract first, so a value this response carries is masked in what is shown of it.
            extracted, missing = _extract(step, observation)
            for value in extracted.values():
                secrets.add(value)
            values.update(extracted)
            results = _evaluate(step.effective_conditions(), observation, secrets)
            evaluated.extend(results)
            if not all(result.success for result in results):
                return failed(label)
            if missing:
                name, condition = missing[0]
                evaluated.append(condition)
                return failed(label, error=f"{name} not found")
    whole = replace(observation, response_time=total)
    evaluated.extend(_evaluate(check.effective_conditions(), whole, secrets))
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
    return _label(number, step.name, step.url)


def _uses_totp(step: JourneyStep) -> bool:
    texts = [step.url, *step.headers.values(), *(step.form or {}).values(), step.body or ""]
    texts += placeholders.strings_in(step.json_body)
    return any(placeholders.TOTP in placeholders.names_in(text) for text in texts)


def _filled(step: JourneyStep, values: dict[str, str]) -> JourneyStep:
    """The step's request with its placeholders filled (and `{{name}}` unescaped)."""
    return step.model_copy(
        update={
            "url": placeholders.fill(step.url, values),
            "headers": {k: placeholders.fill(v, values) for k, v in step.headers.items()},
            "body": placeholders.fill(step.body, values) if step.body is not None else None,
            "form": (
                {k: placeholders.fill(v, values) for k, v in step.form.items()}
                if step.form is not None
                else None
            ),
            "json_body": placeholders.fill_json(step.json_body, values),
        }
    )


def _reads_body(step: JourneyStep) -> bool:
    return uses_body(step.effective_conditions()) or any(
        parse_extraction(text).uses_body for text in step.extract.values()
    )


def _extract(
    step: JourneyStep, observation: Observation
) -> tuple[dict[str, str], list[tuple[str, ConditionResult]]]:
    """The values found, and for each one missing its name and a failed condition saying why."""
    found: dict[str, str] = {}
    missing: list[tuple[str, ConditionResult]] = []
    for name, text in step.extract.items():
        try:
            found[name] = parse_extraction(text).read(observation)
        except NotExtracted as why:
            shown = f"{name} = {text.strip()} ({why})"
            missing.append(
                (name, ConditionResult(condition=text, success=False, description=shown))
            )
    return found, missing


def _evaluate(
    conditions: list[str], observation: Observation, secrets: Secrets
) -> tuple[ConditionResult, ...]:
    """Each condition's outcome on what was observed, described from what people may see."""
    results = evaluate_conditions(conditions, observation)
    if not secrets:
        return results
    shown = evaluate_conditions(conditions, secrets.mask_observation(observation))
    return tuple(
        replace(result, description=secrets.mask(seen.description))
        for result, seen in zip(results, shown, strict=True)
    )


def _journey_client(ssl_context: ssl.SSLContext) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        verify=ssl_context,
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT},
        timeout=None,  # asyncio.timeout bounds each step
        limits=httpx.Limits(max_connections=4),
    )

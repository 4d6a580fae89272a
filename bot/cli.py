"""The `statusbot` command: run | demo | check | validate."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any, TextIO

from dotenv import dotenv_values
from pydantic import ValidationError

from bot.config import Config, ConfigError, load_config
from bot.monitoring.checks.probe import ProbeContext, build_ssl_context, make_http_client, run_check
from bot.monitoring.checks.result import CheckResult
from bot.settings import Settings
from bot.statements.samples import template_problems

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    _setup_logging(args.verbose)
    try:
        settings = Settings()
    except ValidationError as exc:
        for error in exc.errors():
            name = ".".join(str(part) for part in error["loc"])
            print(f"statusbot: environment variable {name}: {error['msg']}", file=sys.stderr)
        return EXIT_USAGE
    if args.command == "demo":
        from bot.demo import run_demo

        if args.speed <= 0:
            print("statusbot: --speed must be a positive number, like 2", file=sys.stderr)
            return EXIT_USAGE
        return _run_async(run_demo(settings, duration=args.duration, speed=args.speed))
    config_path = Path(args.config) if args.config else settings.config_path
    try:
        config = load_config(config_path, config_environment())
    except ConfigError as exc:
        print(f"statusbot: {len(exc.issues)} problem(s) in the config:", file=sys.stderr)
        for issue in exc.issues:
            print(f"  {issue}", file=sys.stderr)
        return EXIT_FAILED if args.command == "validate" else EXIT_USAGE
    problems = template_problems(config)
    if problems and args.command in ("validate", "run"):
        print(f"statusbot: {len(problems)} problem(s) in the statement templates:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_FAILED if args.command == "validate" else EXIT_USAGE
    if args.command == "validate":
        from bot.subscribers import settings_problems as subscriber_problems
        from bot.wiring import platform_problems

        settings_problems = platform_problems(settings, config) + subscriber_problems(settings)
        if settings_problems:
            print(
                f"statusbot: {len(settings_problems)} problem(s) in the settings:",
                file=sys.stderr,
            )
            for problem in settings_problems:
                print(f"  {problem}", file=sys.stderr)
            return EXIT_FAILED
        from bot.mirrors.statuspage_io import half_configured

        warning = half_configured(settings, config)
        if warning is not None:
            print(f"statusbot: warning: {warning}", file=sys.stderr)
        print(
            f"{config_path}: OK ({len(config.components)} components, {len(config.checks)} checks, "
            f"languages {', '.join(config.languages)}; templates in "
            f"{config.statements.templates or 'the package (shipped)'} "
            "render)"
        )
        return EXIT_OK
    if args.command == "check":
        return _run_async(check_once(settings, config, sys.stdout))
    return _run_async(run_bot(settings, config))


def config_environment(env_file: Path = Path(".env")) -> dict[str, str]:
    """What `${VAR}` in the config reads: the environment, then `.env` (as the settings do)."""
    from_file = {k: v for k, v in dotenv_values(env_file).items() if v is not None}
    return {**from_file, **os.environ}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="statusbot", description="Health checks, outage alerts and incidents in chat."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_text in (
        ("run", "run the bot"),
        ("check", "run every check once, print a table, exit 1 if any fails"),
        ("validate", "validate the config file and templates"),
    ):
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("--config", help="YAML config file (default: $STATUSBOT_CONFIG)")
    demo = commands.add_parser("demo", help="a self-contained demo with a simulated outage")
    demo.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    demo.add_argument(
        "--speed", type=float, default=1.0, help="play the story this many times faster (e.g. 2)"
    )
    return parser


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("apscheduler", "httpx", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _run_async(main: Coroutine[Any, Any, int]) -> int:
    try:
        return asyncio.run(main)
    except KeyboardInterrupt:
        return EXIT_OK


async def run_bot(settings: Settings, config: Config) -> int:
    from bot.wiring import build_runtime, install_chat, wait_for_signal

    if settings.slack_bot_token and not (settings.slack_signing_secret or settings.slack_app_token):
        print(
            "statusbot: SLACK_SIGNING_SECRET is required with SLACK_BOT_TOKEN: it verifies "
            "Slack's requests (or set SLACK_APP_TOKEN to use Socket Mode instead)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    from bot.subscribers import settings_problems

    problems = settings_problems(settings)
    for problem in problems:
        print(f"statusbot: {problem}", file=sys.stderr)
    if problems:
        return EXIT_USAGE
    runtime = build_runtime(settings, config)
    install_chat(runtime, console_commands=True)
    for line in runtime.describe():
        print(f"statusbot: {line}", file=sys.stderr)
    try:
        await runtime.start()
    except (RuntimeError, OSError) as exc:
        print(f"statusbot: cannot start: {exc}", file=sys.stderr)
        await runtime.stop()
        return EXIT_FAILED
    try:
        await wait_for_signal()
    finally:
        await runtime.stop()
    return EXIT_OK


async def check_once(settings: Settings, config: Config, out: TextIO) -> int:
    ssl_context = build_ssl_context(settings.ssl_cert_file)
    async with make_http_client(ssl_context, config.monitor.max_concurrency) as http:
        context = ProbeContext(http=http, ssl_context=ssl_context)
        results = await asyncio.gather(*(run_check(check, context) for check in config.checks))
    out.write(format_results(config, list(results)))
    return EXIT_OK if all(r.success for r in results) else EXIT_FAILED


def format_results(config: Config, results: list[CheckResult]) -> str:
    kinds = {check.id: (check.component, check.type) for check in config.checks}
    rows = [("CHECK", "COMPONENT", "TYPE", "RESULT", "TIME", "DETAIL")]
    for result in results:
        component, kind = kinds[result.check_id]
        detail = "" if result.success else result.reason
        rows.append(
            (
                result.check_id,
                component,
                kind,
                "ok" if result.success else "FAIL",
                f"{result.latency_ms:.0f} ms",
                detail,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + "  " + row[-1]
        for row in rows
    ]
    failed = sum(1 for r in results if not r.success)
    lines.append(f"{len(results) - failed} passed, {failed} failed")
    return "\n".join(line.rstrip() for line in lines) + "\n"

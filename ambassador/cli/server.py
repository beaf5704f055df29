"""``serve`` (uvicorn, workers, metrics directory) and ``check --deploy``."""

from __future__ import annotations

import argparse
import asyncio
import os
from typing import TYPE_CHECKING

from ambassador.cli.output import fail, say

if TYPE_CHECKING:
    from ambassador.settings import Settings


APP_FACTORY = "ambassador.web.app:create_app"


def prepare_before_workers(settings: Settings) -> None:
    """Run by ``serve`` once before the workers start, before anything imports prometheus_client.

    The workers inherit ``PROMETHEUS_MULTIPROC_DIR`` and count into its files; the last run's
    files are removed (ambassador.metrics).
    """
    from ambassador import metrics

    metrics.prepare_multiprocess_dir(settings)


def serve(args: argparse.Namespace) -> int:
    """uvicorn with its own proxy-header handling off: ForwardedMiddleware decides whom to trust.

    The host and port actually served go into the workers' environment (AMBASSADOR_HOST,
    AMBASSADOR_PORT, PORT), where development settings derive the base URL from them.
    """
    import uvicorn

    from ambassador.settings import ConfigurationError, listen_address, load_settings

    try:
        default_host, default_port = listen_address(dict(os.environ))
        workers = args.workers or _positive(os.environ.get("AMBASSADOR_WORKERS"), "AMBASSADOR_WORKERS")
    except ConfigurationError as exc:
        return fail(str(exc))
    host = args.host or default_host
    port = args.port or default_port
    os.environ.update({"AMBASSADOR_HOST": host, "AMBASSADOR_PORT": str(port), "PORT": str(port)})
    try:
        # Once here: a refused configuration is said once, and the development secret is
        # written by this process, not raced for by the workers.
        settings = load_settings()
    except ConfigurationError as exc:
        return fail(f"refusing to start: {exc}")
    prepare_before_workers(settings)
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=False,
        access_log=False,  # RequestLogMiddleware logs every request, with the client's address
        server_header=False,
    )
    return 0


def _positive(raw: str | None, name: str) -> int:
    from ambassador.settings import ConfigurationError

    if not raw:
        return 1
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigurationError(f"{name} must be a whole number of 1 or more, got {raw!r}")
    return int(raw)


def check(args: argparse.Namespace) -> int:
    """``check --deploy``: one line per problem; exit 1 when any is an error."""
    from ambassador import deploycheck
    from ambassador.settings import ConfigurationError, read_settings

    if not args.deploy:
        return fail("say what to check: `ambassador check --deploy`", code=2)
    try:
        settings = read_settings()
    except ConfigurationError as exc:
        say(f"ERROR: [settings] {exc}")
        return 1
    findings = asyncio.run(deploycheck.check_deploy(settings))
    for finding in findings:
        say(finding.line())
    errors = sum(finding.level == "ERROR" for finding in findings)
    warnings = len(findings) - errors
    say(f"{errors} error{'' if errors == 1 else 's'}, {warnings} warning{'' if warnings == 1 else 's'}")
    return 1 if errors else 0


def port_number(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"not a port number (1 to 65535): {text!r}")
    return int(text)


def positive_count(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"not a whole number of 1 or more: {text!r}")
    return int(text)

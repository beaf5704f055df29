"""Content-Security-Policy violation reports (ASVS 3.4.7).

Every policy names this endpoint twice: ``report-uri /csp-report`` (browsers that know only
that send ``application/csp-report``: ``{"csp-report": {...}}``) and ``report-to csp`` with a
``Reporting-Endpoints: csp="/csp-report"`` header (the Reporting API: ``application/reports+json``,
a list of ``{"type": "csp-violation", "body": {...}}``).

Each violation becomes a security event ``csp.violation`` (outcome ``blocked``) with the
directive and the blocked resource's origin (or a keyword such as ``inline``), never the
page's address, the full blocked URL or a sample of the code: those may hold tokens or what
someone typed. Bodies are limited to :data:`MAX_REPORT_BYTES` (413 above), anything that is not
a report is 400, and at most :data:`EVENTS_PER_MINUTE` events a minute are logged per process
(more are accepted and dropped), so the endpoint costs little and cannot flood the log. It
takes no CSRF token (ambassador.web.csrf exempts it), no session and no authentication.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, Response, post
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException
from litestar.status_codes import HTTP_204_NO_CONTENT, HTTP_400_BAD_REQUEST, HTTP_415_UNSUPPORTED_MEDIA_TYPE

from ambassador import security_log
from ambassador.web.csrf import origin_of
from ambassador.web.middleware import CSP_REPORT_PATH

MAX_REPORT_BYTES = 16 * 1024
MAX_VIOLATIONS_PER_REPORT = 10
EVENTS_PER_MINUTE = 60
REPORT_TYPES = frozenset({"application/csp-report", "application/reports+json", "application/json"})
# What browsers write instead of a URL for what they blocked.
KEYWORDS = frozenset(
    {"inline", "eval", "wasm-eval", "self", "data", "blob", "trusted-types-policy", "trusted-types-sink"}
)
_DIRECTIVE = re.compile(r"[a-z][a-z-]{0,39}")


class NotAReport(ValueError):
    """The body is not a CSP violation report."""


@dataclass(frozen=True)
class Violation:
    directive: str
    blocked: str


class ReportBudget:
    """At most ``per_minute`` logged reports a minute in this process (a fixed window)."""

    def __init__(self, per_minute: int = EVENTS_PER_MINUTE, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self.window = -1
        self.used = 0

    def take(self) -> bool:
        window = int(self.clock() // 60)
        if window != self.window:
            self.window, self.used = window, 0
        if self.used >= self.per_minute:
            return False
        self.used += 1
        return True


def directive_name(value: object) -> str:
    """``script-src-elem`` from ``"script-src-elem 'self'"``; ``unknown`` for anything else."""
    if not isinstance(value, str):
        return "unknown"
    first = value.strip().split(" ", 1)[0].lower()
    return first if _DIRECTIVE.fullmatch(first) else "unknown"


def blocked_origin(value: object) -> str:
    """The blocked resource reduced to its origin, a browser keyword, or ``other``."""
    if not isinstance(value, str) or not value:
        return "none"
    keyword = value.strip().lower().removesuffix(":")
    if keyword in KEYWORDS:
        return keyword
    return origin_of(value) or "other"


def _object(value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise NotAReport
    return value


def parse_reports(content_type: str, body: bytes) -> list[Violation]:
    """The violations in a report body of either format; :class:`NotAReport` when there are none."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise NotAReport from exc
    if content_type == "application/reports+json":
        if not isinstance(data, list) or not data:
            raise NotAReport
        violations = []
        for item in data[:MAX_VIOLATIONS_PER_REPORT]:
            report = _object(item)
            if report.get("type") != "csp-violation":
                continue  # other report types may share the endpoint one day: not ours
            details = _object(report.get("body"))
            violations.append(
                Violation(
                    directive_name(details.get("effectiveDirective") or details.get("violatedDirective")),
                    blocked_origin(details.get("blockedURL")),
                )
            )
        return violations
    details = _object(_object(data).get("csp-report"))
    directive = details.get("effective-directive") or details.get("violated-directive")
    return [Violation(directive_name(directive), blocked_origin(details.get("blocked-uri")))]


class CspReportController(Controller):
    opt = {"exclude_from_auth": True}
    include_in_schema = False

    @post(
        CSP_REPORT_PATH,
        name="csp_report",
        status_code=HTTP_204_NO_CONTENT,
        skip_session=True,
        request_max_body_size=MAX_REPORT_BYTES,
    )
    async def report(
        self, request: Request[Any, Any, Any], csp_budget: NamedDependency[ReportBudget]
    ) -> Response[None]:
        content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if content_type not in REPORT_TYPES:
            raise HTTPException(status_code=HTTP_415_UNSUPPORTED_MEDIA_TYPE)
        try:
            violations = parse_reports(content_type, await request.body())
        except NotAReport as exc:
            raise HTTPException(status_code=HTTP_400_BAD_REQUEST) from exc
        for violation in violations:
            if csp_budget.take():
                security_log.event(
                    "csp.violation", "blocked", directive=violation.directive, blocked_uri=violation.blocked
                )
        return Response(None, status_code=HTTP_204_NO_CONTENT)

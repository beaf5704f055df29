"""Security events (ASVS V16): authentication, denials, CSRF failures, throttles, honeypot hits.

One JSON line per event on the ``ambassador.security`` logger, with time, event, outcome,
user (if any), client address, route and request id taken from the request context. Callers
pass ids and reasons, never passwords, tokens, emails or other personal data. See
docs/logging.md for the list of events and how to ship them.
"""

from __future__ import annotations

import logging
from typing import Literal

from ambassador import requestcontext

Outcome = Literal["success", "failure", "denied", "throttled", "blocked"]

log = logging.getLogger("ambassador.security")


def event(name: str, outcome: Outcome, *, user_id: int | None = None, **details: str | int | bool | None) -> None:
    """Log one security event; ``user_id`` defaults to the request's authenticated account."""
    context = requestcontext.current()
    log.log(
        logging.INFO if outcome == "success" else logging.WARNING,
        name,
        extra={
            "event": name,
            "outcome": outcome,
            "user_id": user_id if user_id is not None else context.user_id,
            "client": context.client,
            "route": context.route,
            "request_id": context.request_id,
            **details,
        },
    )

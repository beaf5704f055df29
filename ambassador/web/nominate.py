"""The citizen's pages: the nomination form, confirmation, the private manage link, consent."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request
from litestar.middleware.rate_limit import RateLimitConfig

from ambassador.settings import Settings

NOMINATE_PATH = "/nominate"


def rate_limit(settings: Settings) -> RateLimitConfig:
    """Per client address, only the form's submissions count (stored in the shared store)."""

    def throttled(request: Request[Any, Any, Any]) -> bool:
        return request.method == "POST" and request.url.path == NOMINATE_PATH

    return RateLimitConfig(
        rate_limit=("hour", settings.nomination_posts_per_hour),
        check_throttle_handler=throttled,
        set_rate_limit_headers=False,
    )


class NominationController(Controller):
    opt = {"exclude_from_auth": True}

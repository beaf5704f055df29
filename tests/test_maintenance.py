"""The web process's chores: each runs on its own, from the first start of a new installation."""

from __future__ import annotations

import datetime as dt

import pytest

from ambassador.db import utcnow
from ambassador.settings import Settings
from ambassador.tables import ThrottleCounter
from ambassador.web.app import create_app, run_maintenance
from tests.conftest import IS_POSTGRES


def counter(key: str, keep_until: dt.datetime) -> ThrottleCounter:
    return ThrottleCounter(bucket=key, key_hash=key * 64, keep_until=int(keep_until.timestamp()))


@pytest.mark.skipif(IS_POSTGRES, reason="the rate-limit counters are files only on SQLite")
async def test_a_new_installation_prunes_login_failures_before_any_nomination(settings: Settings) -> None:
    """Bug: the rate-limit folder existed only after the first nomination, and the failed sweep of
    its counters skipped the chores after it (expired throttle counters, unconfirmed nominations)."""
    app = create_app(settings)
    await ThrottleCounter.insert(
        counter("a", utcnow() - dt.timedelta(seconds=60)), counter("b", utcnow() + dt.timedelta(seconds=60))
    )

    await run_maintenance(settings, app.stores)

    assert (settings.var_dir / "rate-limits").is_dir()
    assert [row["key_hash"] for row in await ThrottleCounter.select(ThrottleCounter.key_hash)] == ["b" * 64]


@pytest.mark.skipif(IS_POSTGRES, reason="the rate-limit counters are files only on SQLite")
async def test_one_failing_chore_does_not_skip_the_others(settings: Settings) -> None:
    app = create_app(settings)
    counters = settings.var_dir / "rate-limits"
    counters.rmdir()
    counters.write_text("a file where the counters' folder should be")  # the counters' sweep fails
    await ThrottleCounter.insert(counter("a", utcnow() - dt.timedelta(seconds=60)))

    await run_maintenance(settings, app.stores)

    assert await ThrottleCounter.count() == 0

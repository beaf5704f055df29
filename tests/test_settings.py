"""Configuration: safe development defaults, production refuses insecure settings."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ambassador.settings import ConfigurationError, load_settings
from ambassador.web.stores import DatabaseStore


def test_development_generates_and_keeps_a_secret_in_var(tmp_path: Path) -> None:
    env = {"AMBASSADOR_VAR_DIR": str(tmp_path)}

    first = load_settings(env)
    second = load_settings(env)

    assert len(first.secret_key) >= 32
    assert first.secret_key == second.secret_key
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert first.database_url == "sqlite:///var/ambassador.sqlite3"
    assert first.smtp_url is None


def test_production_refuses_to_start_with_insecure_settings(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as refused:
        load_settings({"AMBASSADOR_ENV": "production", "AMBASSADOR_VAR_DIR": str(tmp_path)})

    message = str(refused.value)
    assert "AMBASSADOR_SECRET_KEY" in message
    assert "https://" in message
    assert "AMBASSADOR_SMTP_URL" in message
    assert not (tmp_path / "secret_key").exists()


def test_production_accepts_secure_settings() -> None:
    settings = load_settings(
        {
            "AMBASSADOR_ENV": "production",
            "AMBASSADOR_SECRET_KEY": "s" * 40,
            "AMBASSADOR_AUDIT_KEY": "a" * 40,
            "AMBASSADOR_BASE_URL": "https://ambassador.krakow.example/",
            "AMBASSADOR_SMTP_URL": "smtps://mail.example:465",
            "AMBASSADOR_DATABASE_URL": "postgresql://app@db/ambassador",
        }
    )

    assert settings.production is True
    assert settings.base_url == "https://ambassador.krakow.example"


@pytest.mark.parametrize(
    ("name", "value"),
    [("AMBASSADOR_ENV", "staging"), ("AMBASSADOR_DATABASE_URL", "mysql://x"), ("AMBASSADOR_ARGON2_TIME_COST", "two")],
)
def test_invalid_values_are_refused_with_the_variable_named(name: str, value: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=name):
        load_settings({name: value, "AMBASSADOR_VAR_DIR": str(tmp_path)})


async def test_database_store_round_trip_expiry_and_namespaces() -> None:
    store = DatabaseStore("test").with_namespace("sessions")
    other = DatabaseStore("test").with_namespace("limits")

    await store.set("k", b"value", expires_in=60)
    await other.set("k", "other")

    assert await store.get("k") == b"value"
    assert await other.get("k") == b"other"
    assert 55 <= (await store.expires_in("k") or 0) <= 60
    await store.set("gone", b"x", expires_in=dt.timedelta(seconds=-1))
    assert await store.get("gone") is None
    await store.delete_all()
    assert await store.exists("k") is False
    assert await other.exists("k") is True

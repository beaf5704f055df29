"""Closed vocabularies shared by every layer."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """Staff roles; a user may hold several."""

    ADMIN = "admin"
    CLERK = "clerk"
    JUROR = "juror"


class TokenPurpose(StrEnum):
    """What a single-use emailed link is for."""

    INVITATION = "invitation"
    PASSWORD_RESET = "password_reset"  # noqa: S105 - a purpose, not a secret


class MailStatus(StrEnum):
    """Where an outbox mail stands."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


LANGUAGES: tuple[str, ...] = ("pl", "en", "uk")
DEFAULT_LANGUAGE = "pl"

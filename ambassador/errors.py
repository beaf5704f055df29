"""Domain errors. Messages are msgids: the web layer translates them for the user."""

from __future__ import annotations


def N_(message: str) -> str:  # noqa: N802 - the gettext marker convention
    """Mark a message for extraction without translating it here."""
    return message


class DomainError(Exception):
    """A rule refused the operation; nothing was changed."""

    message: str = N_("The operation is not allowed.")

    def __init__(self, message: str | None = None, **params: object) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message
        self.params = params


class NotAcknowledged(DomainError):
    """An irreversible step with warnings the user has not ticked as read."""

    message = N_("Read the warnings and tick the box to confirm that you have.")


class NotFound(DomainError):
    message = N_("Not found.")


class NotAllowed(DomainError):
    message = N_("You are not allowed to do this.")


class InvalidInput(DomainError):
    """One or more fields are invalid; ``errors`` maps field name to msgid."""

    message = N_("Please correct the marked fields.")

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__()
        self.errors = errors


class InvalidCredentials(DomainError):
    message = N_("The email or password is not correct.")


class Throttled(DomainError):
    message = N_("Too many failed attempts. Please wait %(minutes)s minutes and try again.")

    def __init__(self, retry_after: int) -> None:
        super().__init__(minutes=max(1, (retry_after + 59) // 60))
        self.retry_after = retry_after


class SlowedDown(Throttled):
    """Many failures for one account from everywhere: browsers it was not used in must wait."""

    message = N_(
        "There have been many failed logins to this account, so logins from browsers it has not "
        "been used in are slowed down. Please try again in %(minutes)s minutes. If it is your "
        "account, check its mailbox: a link there lets the browser that opens it log in at once."
    )


class InvalidToken(DomainError):
    message = N_("This link is invalid, already used or expired.")


class InvalidCode(DomainError):
    message = N_("The code is not correct.")


class Conflict(DomainError):
    """A uniqueness rule of the database refused the change."""

    message = N_("This already exists.")


class Message(str):
    """A msgid with ``%(name)s`` parameters, for a field error that names something (a file)."""

    params: dict[str, object]

    def __new__(cls, msgid: str, **params: object) -> Message:
        message = super().__new__(cls, msgid)
        message.params = params
        return message


def too_long(limit: int) -> Message:
    """A text over its limit: the one message for every field, the limit its parameter."""
    return Message(N_("At most %(limit)d characters."), limit=limit)

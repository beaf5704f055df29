"""Bulk actions: one single-item domain function applied to many items, each on its own.

Every item goes through the same function a one-at-a-time page calls, in its own write
transaction with its own audit entry; an item the function refuses is named with the reason
and stays as it was, and the others go through.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from ambassador.errors import N_, DomainError, InvalidInput, Message

T = TypeVar("T")

# The most items one submission may name (a form's checkboxes, a pasted list's lines).
MAX_ITEMS = 500
NOTHING_CHOSEN = N_("Nothing was selected; nothing has changed.")
NOT_HERE = N_("Not found here, or not yours to change.")


@dataclass(frozen=True)
class Failure:
    label: str  # how the user knows the item (a reference, a name, a line)
    message: Message  # why it was refused, a msgid with its parameters


@dataclass(frozen=True)
class Outcome:
    done: tuple[str, ...]
    failed: tuple[Failure, ...]


def reason_of(exc: DomainError) -> Message:
    """The refusal as one message: an invalid input's first field message, else the error's."""
    if isinstance(exc, InvalidInput) and exc.errors:
        first = next(iter(exc.errors.values()))
        return Message(str(first), **getattr(first, "params", {}))
    return Message(exc.message, **exc.params)


async def apply(items: Iterable[tuple[str, T]], fn: Callable[[T], Awaitable[object]]) -> Outcome:
    """``fn`` on every (label, item) in turn; a refusal is recorded and the next item goes on.

    Only domain refusals are caught: anything else is a fault and propagates (the items
    already done stay done, each being its own transaction).
    """
    done: list[str] = []
    failed: list[Failure] = []
    for label, item in items:
        try:
            await fn(item)
        except DomainError as exc:
            failed.append(Failure(label, reason_of(exc)))
        else:
            done.append(label)
    return Outcome(tuple(done), tuple(failed))


def refused(labels: Iterable[str], message: str = NOT_HERE) -> tuple[Failure, ...]:
    """Items refused before any function runs (not of this edition, not the user's)."""
    return tuple(Failure(label, Message(message)) for label in labels)


def merged(*outcomes: Outcome) -> Outcome:
    return Outcome(tuple(label for o in outcomes for label in o.done), tuple(f for o in outcomes for f in o.failed))


class NothingChosen(DomainError):
    message = NOTHING_CHOSEN


class TooMany(DomainError):
    message = N_("At most %(limit)d items can be changed at once.")

    def __init__(self) -> None:
        super().__init__(limit=MAX_ITEMS)


def chosen_ids(ids: Iterable[int]) -> list[int]:
    """The posted ids, each once, in order; none or too many changes nothing."""
    unique = list(dict.fromkeys(ids))
    if not unique:
        raise NothingChosen()
    if len(unique) > MAX_ITEMS:
        raise TooMany()
    return unique

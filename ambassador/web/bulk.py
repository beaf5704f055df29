"""Showing a bulk action's outcome after its redirect: what changed, and what did not and why."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Request
from litestar.plugins.flash import flash

from ambassador import i18n
from ambassador.domain import bulk
from ambassador.errors import DomainError
from ambassador.web.forms import MAX_ROW_ID, Form


def failure_text(failure: bulk.Failure) -> str:
    """ "KRK/2025/001: reason" in the current language."""
    return f"{failure.label}: {i18n.gettext(failure.message, **failure.message.params)}"


def flash_outcome(request: Request[Any, Any, Any], outcome: bulk.Outcome, done: Callable[[int, str], str]) -> None:
    """One notice for what changed (``done(count, items)``: the translated sentence) and one
    naming every item left unchanged with its reason."""
    if outcome.done:
        flash(request, done(len(outcome.done), ", ".join(outcome.done)), "success")
    if outcome.failed:
        heading = i18n.ngettext("%(num)s item was not changed:", "%(num)s items were not changed:", len(outcome.failed))
        flash(request, " ".join([heading, *(failure_text(f) for f in outcome.failed)]), "error")


def flash_refusal(request: Request[Any, Any, Any], exc: DomainError) -> None:
    """A refusal of the whole submission (nothing chosen, too many): nothing changed."""
    flash(request, i18n.gettext(bulk.reason_of(exc), **bulk.reason_of(exc).params), "error")


def posted_ids(form: Form, name: str) -> tuple[list[int], list[str]]:
    """The row ids posted under ``name`` and the values that are no row id (refused by name)."""
    ids: list[int] = []
    bad: list[str] = []
    for raw in form.values(name)[: bulk.MAX_ITEMS + 1]:
        text = raw.strip()
        if text.isascii() and text.isdigit() and 1 <= int(text) <= MAX_ROW_ID:
            ids.append(int(text))
        else:
            bad.append("#" + text[:20])
    return ids, bad

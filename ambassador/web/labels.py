"""Human labels of the closed vocabularies, translated into the request's language.

Templates receive this module as ``labels`` and call e.g. ``labels.edition_state(state)``;
an unknown value is shown as it is rather than failing the page. The message ids live in
``ambassador.vocabulary``.
"""

from __future__ import annotations

from collections.abc import Iterable

from ambassador import i18n
from ambassador.domain.categories import CategoryRow
from ambassador.domain.conflict_evidence import Evidence, describe
from ambassador.errors import N_
from ambassador.vocabulary import (
    APPROVING_BODIES,
    CONFLICT_KINDS,
    CONSENTS,
    DETECTION_STATUSES,
    DISTINCTIONS,
    DUPLICATE_MATCHES,
    EDITION_STATES,
    MAJORITIES,
    NOMINATION_STATES,
    NOMINEE_FIELDS,
    NOMINEE_KINDS,
    ORGANISATION_KINDS,
    SCORE_RULES,
    SCORE_VISIBILITIES,
    SHEET_STATUSES,
    STEPS,
    TIE_BREAKS,
    VOTE_CHOICES,
)


def _label(table: dict[str, str], value: object) -> str:
    key = str(value)
    return i18n.gettext(table[key]) if key in table else key


def edition_state(value: object) -> str:
    return _label(EDITION_STATES, value)


def step(value: object) -> str:
    return _label(STEPS, value)


def approving_body(value: object) -> str:
    return _label(APPROVING_BODIES, value)


def category(value: object, categories: Iterable[CategoryRow]) -> str:
    """A category code as its edition names it ("A: organisation"); an unknown code as it is."""
    row = next((c for c in categories if c.code == str(value)), None)
    return row.label(i18n.current_language.get()) if row else str(value)


def nominee_kind(value: object) -> str:
    return _label(NOMINEE_KINDS, value)


def nominee_field(value: object) -> str:
    return _label(NOMINEE_FIELDS, value)


def organisation_kind(value: object) -> str:
    return _label(ORGANISATION_KINDS, value)


def nomination_state(value: object) -> str:
    return _label(NOMINATION_STATES, value)


def consent(value: object) -> str:
    return _label(CONSENTS, value)


def conflict_kind(value: object) -> str:
    return _label(CONFLICT_KINDS, value)


def sheet_status(value: object) -> str:
    """The juror's own sheet; no sheet yet reads "not scored"."""
    return i18n.gettext(N_("not scored")) if value is None else _label(SHEET_STATUSES, value)


def detection_status(value: object) -> str:
    return _label(DETECTION_STATUSES, value)


def evidence(found: Evidence) -> str:
    """Why a conflict was detected, in the request's language."""
    return describe(found, i18n.current_language.get())


def duplicate_matches(values: Iterable[object]) -> str:
    """Why two nominations may be the same nominee, as one phrase ("same KRS number, …")."""
    return ", ".join(_label(DUPLICATE_MATCHES, value) for value in values)


def score_visibility(value: object) -> str:
    return _label(SCORE_VISIBILITIES, value)


def majority(value: object) -> str:
    return _label(MAJORITIES, value)


def tie_break(value: object) -> str:
    return _label(TIE_BREAKS, value)


def distinction(value: object) -> str:
    return _label(DISTINCTIONS, value)


def vote_choice(value: object) -> str:
    """A juror's vote; no vote yet reads "not voted"."""
    return i18n.gettext(N_("not voted")) if value is None else _label(VOTE_CHOICES, value)


def score_rule(value: object) -> str:
    return _label(SCORE_RULES, value)


def options(table: dict[str, str]) -> list[tuple[str, str]]:
    """(value, translated label) pairs for a select, in the vocabulary's order."""
    return [(key, i18n.gettext(label)) for key, label in table.items()]

"""Human labels of the closed vocabularies, translated into the request's language.

Templates receive this module as ``labels`` and call e.g. ``labels.edition_state(state)``;
an unknown value is shown as it is rather than failing the page.
"""

from __future__ import annotations

from ambassador import i18n
from ambassador.enums import (
    ApprovingBody,
    Category,
    ConsentState,
    EditionState,
    NominationState,
    OrganisationKind,
)
from ambassador.errors import N_

EDITION_STATES: dict[str, str] = {
    EditionState.DRAFT: N_("draft"),
    EditionState.OPEN: N_("open for nominations"),
    EditionState.FORMAL_CHECK: N_("formal check"),
    EditionState.JURY_SCORING: N_("jury scoring"),
    EditionState.DELIBERATION: N_("jury deliberation"),
    EditionState.RECOMMENDED: N_("recommended"),
    EditionState.APPROVED: N_("approved"),
    EditionState.PUBLISHED: N_("published"),
}

# The button that moves an edition to the given state.
STEPS: dict[str, str] = {
    EditionState.OPEN: N_("Open for nominations"),
    EditionState.FORMAL_CHECK: N_("Close nominations and start the formal check"),
    EditionState.JURY_SCORING: N_("Start jury scoring"),
    EditionState.DELIBERATION: N_("Close scoring and start the jury deliberation"),
    EditionState.RECOMMENDED: N_("Record the jury's recommendation"),
    EditionState.APPROVED: N_("Record the approving body's decision"),
    EditionState.PUBLISHED: N_("Publish the laureates"),
}

APPROVING_BODIES: dict[str, str] = {
    ApprovingBody.COUNCIL_RESOLUTION: N_("City Council resolution"),
    ApprovingBody.MAYOR_ORDER: N_("Mayor's order"),
}

CATEGORIES: dict[str, str] = {
    Category.A: N_("A: organisation"),
    Category.B: N_("B: individual"),
}

ORGANISATION_KINDS: dict[str, str] = {
    OrganisationKind.NGO: N_("non-governmental organisation"),
    OrganisationKind.INSTITUTION: N_("public institution"),
    OrganisationKind.COMPANY: N_("company"),
    OrganisationKind.INFORMAL_GROUP: N_("informal group"),
}

NOMINATION_STATES: dict[str, str] = {
    NominationState.UNCONFIRMED: N_("unconfirmed"),
    NominationState.SUBMITTED: N_("submitted"),
    NominationState.REJECTED: N_("formally rejected"),
    NominationState.ACCEPTED: N_("accepted"),
    NominationState.SHORTLISTED: N_("shortlisted"),
    NominationState.RECOMMENDED: N_("recommended"),
    NominationState.APPROVED: N_("approved"),
    NominationState.NOT_APPROVED: N_("not approved"),
    NominationState.LAUREATE: N_("laureate"),
    NominationState.WITHDRAWN: N_("withdrawn"),
    NominationState.MERGED: N_("merged"),
}

CONSENTS: dict[str, str] = {
    ConsentState.PENDING: N_("awaiting consent"),
    ConsentState.GIVEN: N_("consent given"),
    ConsentState.REFUSED: N_("consent refused"),
}


def _label(table: dict[str, str], value: object) -> str:
    key = str(value)
    return i18n.gettext(table[key]) if key in table else key


def edition_state(value: object) -> str:
    return _label(EDITION_STATES, value)


def step(value: object) -> str:
    return _label(STEPS, value)


def approving_body(value: object) -> str:
    return _label(APPROVING_BODIES, value)


def category(value: object) -> str:
    return _label(CATEGORIES, value)


def organisation_kind(value: object) -> str:
    return _label(ORGANISATION_KINDS, value)


def nomination_state(value: object) -> str:
    return _label(NOMINATION_STATES, value)


def consent(value: object) -> str:
    return _label(CONSENTS, value)


def options(table: dict[str, str]) -> list[tuple[str, str]]:
    """(value, translated label) pairs for a select, in the vocabulary's order."""
    return [(key, i18n.gettext(label)) for key, label in table.items()]

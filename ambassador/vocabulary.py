"""Message ids naming the values of the closed vocabularies (see ``enums``).

One table per vocabulary, shared by the web pages (``web.labels`` translates them for the
request) and by documents written in a chosen language (the minutes), so one translation
serves both.
"""

from __future__ import annotations

from ambassador.enums import (
    ApprovingBody,
    ConflictKind,
    ConsentState,
    DetectionStatus,
    Distinction,
    EditionState,
    Majority,
    NominationState,
    NomineeField,
    NomineeKind,
    OrganisationKind,
    ScoreVisibility,
    SheetStatus,
    VoteChoice,
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

# Who a category's nominees may be.
NOMINEE_KINDS: dict[str, str] = {
    NomineeKind.PERSON: N_("persons"),
    NomineeKind.ORGANISATION: N_("organisations"),
    NomineeKind.EITHER: N_("persons or organisations"),
}

# The extra nominee fields a category may ask for.
NOMINEE_FIELDS: dict[str, str] = {
    NomineeField.ORGANISATION_KIND: N_("kind of organisation and its website"),
    NomineeField.REGISTRY_NUMBER: N_("KRS number (Polish court register, 10 digits)"),
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

# Why a juror may not judge a nomination, as the juror declares it.
CONFLICT_KINDS: dict[str, str] = {
    ConflictKind.IS_NOMINEE: N_("is the nominee"),
    ConflictKind.NOMINATED: N_("nominated them"),
    ConflictKind.FAMILY: N_("family"),
    ConflictKind.BUSINESS: N_("employment or business relation"),
    ConflictKind.ORGANISATION: N_("board, staff or member of the nominee organisation"),
    ConflictKind.OTHER: N_("other"),
}

# A juror's own score sheet on a nomination.
SHEET_STATUSES: dict[str, str] = {
    SheetStatus.DRAFT: N_("draft saved"),
    SheetStatus.SUBMITTED: N_("submitted"),
    SheetStatus.VOID: N_("voided by a conflict"),
}

# A clerk's decision on an automatically detected conflict.
DETECTION_STATUSES: dict[str, str] = {
    DetectionStatus.PENDING: N_("awaiting a decision"),
    DetectionStatus.CONFIRMED: N_("confirmed"),
    DetectionStatus.DISMISSED: N_("dismissed"),
}

# When a juror sees the other jurors' scores on a nomination.
SCORE_VISIBILITIES: dict[str, str] = {
    ScoreVisibility.AFTER_OWN: N_("after submitting their own"),
    ScoreVisibility.NEVER: N_("never"),
    ScoreVisibility.ALWAYS: N_("always"),
}

MAJORITIES: dict[str, str] = {
    Majority.SIMPLE: N_("simple (more votes for than against)"),
    Majority.ABSOLUTE: N_("absolute (more than half of the votes cast)"),
}

# How a tie in the ranking is broken (jury.TIE_BREAKS), one after another.
TIE_BREAKS: dict[str, str] = {
    "median": N_("median score"),
    "top_scores": N_("number of top scores"),
    "mean": N_("mean score"),
    "vote": N_("jury vote"),
}

# What the chair proposes a nomination for.
DISTINCTIONS: dict[str, str] = {
    Distinction.TITLE: N_("title"),
    Distinction.MENTION: N_("honourable mention"),
}

# A juror's vote on a proposal.
VOTE_CHOICES: dict[str, str] = {
    VoteChoice.FOR: N_("for"),
    VoteChoice.AGAINST: N_("against"),
    VoteChoice.ABSTAIN: N_("abstain"),
}

# The edition's rule on seeing other jurors' scores, as a sentence for the juror.
SCORE_RULES: dict[str, str] = {
    ScoreVisibility.AFTER_OWN: N_("Other jurors' scores are shown to you once you have submitted your own."),
    ScoreVisibility.NEVER: N_("Other jurors' scores are not shown to you during scoring."),
    ScoreVisibility.ALWAYS: N_("Other jurors' submitted scores are shown to you at any time."),
}

# Why automatic detection suspects a conflict (``conflict_evidence.Evidence.key``): one whole
# sentence per clue and field, so that each language can say it in its own grammar.
EVIDENCE: dict[str, str] = {
    "same_address:nominee_email": N_("The juror's email address is the nominee's."),
    "same_address:nominator_email": N_("The juror's email address is the nominator's."),
    "same_domain:nominee_email": N_("The juror's mail domain %(value)s is the nominee's."),
    "same_domain:nominator_email": N_("The juror's mail domain %(value)s is the nominator's."),
    "name:nominee": N_("The juror's name appears in the nominee's name."),
    "name:nominator": N_("The juror's name appears in the nominator's name."),
    "name:nominator_organisation": N_("The juror's name appears in the nominator's organisation."),
    "surname:nominee": N_("The juror's surname appears in the nominee's name."),
    "surname:nominator": N_("The juror's surname appears in the nominator's name."),
    "surname:nominator_organisation": N_("The juror's surname appears in the nominator's organisation."),
    "organisation:nominee": N_("The juror's organisation “%(value)s” appears in the nominee's name."),
    "organisation:nominator": N_("The juror's organisation “%(value)s” appears in the nominator's name."),
    "organisation:nominator_organisation": N_(
        "The juror's organisation “%(value)s” appears in the nominator's organisation."
    ),
}

# Why two nominations may be the same nominee (``formal_check.Match``).
DUPLICATE_MATCHES: dict[str, str] = {
    "name": N_("same nominee name in the same category"),
    "registry_number": N_("same KRS number"),
    "email": N_("same nominee email"),
}

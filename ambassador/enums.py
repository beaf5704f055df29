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
    # Lets the browser that opens it log in to an account that is being attacked (throttle).
    LOGIN_UNLOCK = "login_unlock"


class MailStatus(StrEnum):
    """Where an outbox mail stands."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


LANGUAGES: tuple[str, ...] = ("pl", "en", "uk")
DEFAULT_LANGUAGE = "pl"


class EditionState(StrEnum):
    """An edition's lifecycle, in order; each step is one domain transition."""

    DRAFT = "draft"
    OPEN = "open"
    FORMAL_CHECK = "formal_check"
    JURY_SCORING = "jury_scoring"
    DELIBERATION = "deliberation"
    RECOMMENDED = "recommended"
    APPROVED = "approved"
    PUBLISHED = "published"


class NomineeKind(StrEnum):
    """Who a category's nominees may be."""

    PERSON = "person"
    ORGANISATION = "organisation"
    EITHER = "either"


class NomineeField(StrEnum):
    """The nominee fields a category may ask for beyond the name and contact."""

    ORGANISATION_KIND = "organisation_kind"
    REGISTRY_NUMBER = "registry_number"  # the Polish court register (KRS): 10 digits


class OrganisationKind(StrEnum):
    NGO = "ngo"
    INSTITUTION = "institution"
    COMPANY = "company"
    INFORMAL_GROUP = "informal_group"


class ApprovingBody(StrEnum):
    COUNCIL_RESOLUTION = "council_resolution"
    MAYOR_ORDER = "mayor_order"


class NominationState(StrEnum):
    """A nomination's path; ``merged`` means it lives on inside another dossier."""

    UNCONFIRMED = "unconfirmed"
    SUBMITTED = "submitted"
    REJECTED = "rejected"
    ACCEPTED = "accepted"
    SHORTLISTED = "shortlisted"
    RECOMMENDED = "recommended"
    APPROVED = "approved"
    NOT_APPROVED = "not_approved"
    LAUREATE = "laureate"
    WITHDRAWN = "withdrawn"
    MERGED = "merged"


class ConsentState(StrEnum):
    PENDING = "pending"
    GIVEN = "given"
    REFUSED = "refused"


class NominationTokenPurpose(StrEnum):
    """What a nomination's emailed link lets its holder do."""

    CONFIRM = "confirm"
    MANAGE = "manage"
    CONSENT = "consent"


class ConflictKind(StrEnum):
    """Why a juror may not judge a nomination (Polish administrative procedure's exclusions)."""

    IS_NOMINEE = "is_nominee"
    NOMINATED = "nominated"
    FAMILY = "family"
    BUSINESS = "business"
    ORGANISATION = "organisation"
    OTHER = "other"


class DetectionStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"


class ScoreVisibility(StrEnum):
    AFTER_OWN = "after_own"
    NEVER = "never"
    ALWAYS = "always"


class SheetStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    VOID = "void"


class Distinction(StrEnum):
    TITLE = "title"
    MENTION = "mention"


class VoteChoice(StrEnum):
    FOR = "for"
    AGAINST = "against"
    ABSTAIN = "abstain"


class Majority(StrEnum):
    SIMPLE = "simple"
    ABSOLUTE = "absolute"

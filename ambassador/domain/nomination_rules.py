"""Cleaning and validating what a nomination form carries (the public form and the clerk's paper entry)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from ambassador import files
from ambassador.domain import uploads as upload_rules
from ambassador.domain.accounts import email_error, normalise_email
from ambassador.domain.categories import CategoryRow
from ambassador.domain.editions import EditionView
from ambassador.domain.nominations import (
    MAX_ATTACHMENT_BYTES,
    MAX_ATTACHMENTS,
    MAX_DESCRIPTION,
    MAX_LINKS,
    MAX_LINKS_TEXT,
    MAX_NAME,
    MAX_RELATION,
    MAX_URL,
    MB,
    NominationData,
    Upload,
)
from ambassador.domain.uploads import UploadRules
from ambassador.enums import LANGUAGES, NomineeField, NomineeKind, OrganisationKind
from ambassador.errors import N_, InvalidInput, Message, too_long
from ambassador.text import clean_line, clean_text, fold

PHONE_RE = re.compile(r"^\+?[0-9 ()\-]{6,40}$")
URL_RE = re.compile(r"^https?://[^\s<>\"]{3,490}$", re.IGNORECASE)
KRS_RE = re.compile(r"^[0-9]{10}$")


def cleaned(data: NominationData, categories: Sequence[CategoryRow] = ()) -> NominationData:
    """Text cleaned as it will be stored: no control characters, spaces collapsed.

    Fields the chosen category does not ask for are emptied (the form may show them all).
    """
    lines = [clean_line(line) for line in clean_text(data.links).splitlines()]
    code = data.category.strip().upper()
    category = next((c for c in categories if c.code == code), None)
    organisation = category is not None and category.asks(NomineeField.ORGANISATION_KIND)
    registry = category is not None and category.asks(NomineeField.REGISTRY_NUMBER)
    return replace(
        data,
        category=code,
        nominee_name=clean_line(data.nominee_name),
        nominee_email=normalise_email(clean_line(data.nominee_email)),
        nominee_phone=clean_line(data.nominee_phone),
        organisation_kind=data.organisation_kind.strip() if organisation else "",
        organisation_website=clean_line(data.organisation_website) if organisation else "",
        registry_number=re.sub(r"[\s-]", "", clean_line(data.registry_number)) if registry else "",
        nominee_is_minor=data.nominee_is_minor and category is not None and category.takes_persons,
        descriptions={k: clean_text(v) for k, v in data.descriptions.items()},
        links="\n".join(line for line in lines if line),
        nominator_name=clean_line(data.nominator_name),
        nominator_email=normalise_email(clean_line(data.nominator_email)),
        nominator_phone=clean_line(data.nominator_phone),
        nominator_organisation=clean_line(data.nominator_organisation),
        nominator_relation=clean_line(data.nominator_relation),
        language=data.language if data.language in LANGUAGES else "pl",
    )


def _text_error(value: str, limit: int, required: bool) -> str | None:
    if required and not value:
        return N_("This field is required.")
    if len(value) > limit:
        return too_long(limit)
    return None


def _contact_errors(data: NominationData, *, nominator_email_required: bool) -> dict[str, str]:
    errors: dict[str, str] = {}
    for name, required in (("nominee_email", False), ("nominator_email", nominator_email_required)):
        value = getattr(data, name)
        if (value or required) and (problem := email_error(value)) is not None:
            errors[name] = problem
    for name in ("nominee_phone", "nominator_phone"):
        value = getattr(data, name)
        if value and not PHONE_RE.match(value):
            errors[name] = N_("Enter a phone number with digits only, like +48 12 345 67 89.")
    return errors


def _organisation_errors(data: NominationData, category: CategoryRow) -> dict[str, str]:
    """The fields the category asks for; the kind is required where only organisations are nominated."""
    errors: dict[str, str] = {}
    if category.asks(NomineeField.ORGANISATION_KIND):
        required = category.nominee_kind == NomineeKind.ORGANISATION
        if (data.organisation_kind or required) and data.organisation_kind not in set(OrganisationKind):
            errors["organisation_kind"] = N_("Choose the kind of organisation.")
        if data.organisation_website and (
            len(data.organisation_website) > MAX_URL or not URL_RE.match(data.organisation_website)
        ):
            errors["organisation_website"] = N_("Enter a web address starting with https:// or http://.")
    if category.asks(NomineeField.REGISTRY_NUMBER) and data.registry_number and not KRS_RE.match(data.registry_number):
        errors["registry_number"] = N_("A KRS number has 10 digits.")
    return errors


def _description_errors(data: NominationData, criteria_ids: list[int]) -> dict[str, str]:
    errors: dict[str, str] = {}
    for criterion_id in criteria_ids:
        if len(data.descriptions.get(criterion_id, "")) > MAX_DESCRIPTION:
            errors[f"description_{criterion_id}"] = too_long(MAX_DESCRIPTION)
    if criteria_ids and not any(data.descriptions.get(c) for c in criteria_ids):
        errors[f"description_{criteria_ids[0]}"] = N_("Describe the activities for at least one criterion.")
    links = data.links.splitlines()
    if len(data.links) > MAX_LINKS_TEXT or len(links) > MAX_LINKS:
        errors["links"] = Message(N_("Give at most %(limit)d links, one per line."), limit=MAX_LINKS)
    elif any(not URL_RE.match(link) for link in links):
        errors["links"] = N_("Enter a web address starting with https:// or http://.")
    return errors


def validate(
    data: NominationData, criteria_ids: list[int], categories: Sequence[CategoryRow], *, by_clerk: bool = False
) -> dict[str, str]:
    """Field name → msgid of every problem in cleaned data (``categories``: the edition's)."""
    errors: dict[str, str] = {}
    category = next((c for c in categories if c.code == data.category), None)
    if category is None:
        errors["category"] = N_("Choose a category.")
    for name, limit, required in (
        ("nominee_name", MAX_NAME, True),
        ("nominator_name", MAX_NAME, True),
        ("nominator_organisation", MAX_NAME, False),
        ("nominator_relation", MAX_RELATION, False),
    ):
        if (problem := _text_error(getattr(data, name), limit, required)) is not None:
            errors[name] = problem
    errors.update(_contact_errors(data, nominator_email_required=not by_clerk))
    if category is not None:
        errors.update(_organisation_errors(data, category))
    errors.update(_description_errors(data, criteria_ids))
    if not data.privacy_ack:
        errors["privacy_ack"] = N_("Please confirm that you have read the privacy notice.")
    takes_persons = category is None or category.takes_persons
    errors.update(dict.fromkeys(_self_nomination(data, takes_persons, errors), SELF_NOMINATION))
    return errors


SELF_NOMINATION = N_("You cannot nominate yourself. Someone else must nominate you.")


def _self_nomination(data: NominationData, takes_persons: bool, errors: dict[str, str]) -> tuple[str, ...]:
    """The fields that show the nominator is the nominee, to report the problem on: both
    emails when they are the same, else (where persons are nominated) both names when they
    are the same, folded; none otherwise. Fields with a problem of their own are not compared.

    A minor's email is the guardian's, so a parent may nominate their child with their own.
    """
    emails = ("nominee_email", "nominator_email")
    if (
        not errors.keys() & set(emails)
        and data.nominee_email
        and data.nominee_email == data.nominator_email
        and not data.nominee_is_minor
    ):
        return emails
    names = ("nominee_name", "nominator_name")
    if takes_persons and not errors.keys() & set(names) and fold(data.nominee_name) == fold(data.nominator_name):
        return names
    return ()


def check_uploads(uploads: list[Upload], existing: int = 0) -> tuple[list[tuple[Upload, str]], str | None]:
    """Each upload with its sniffed type, or the first problem (msgid) found."""
    accepted: list[tuple[Upload, str]] = []
    uploads = [u for u in uploads if u.data or u.filename]
    if existing + len(uploads) > MAX_ATTACHMENTS:
        return [], Message(N_("Attach at most %(limit)d files."), limit=MAX_ATTACHMENTS)
    for upload in uploads:
        if len(upload.data) > MAX_ATTACHMENT_BYTES:
            return [], Message(N_("Each file may have at most %(limit)d MB."), limit=MAX_ATTACHMENT_BYTES // MB)
        content_type = files.sniff(upload.data)
        if content_type is None:
            return [], N_("Attach only PDF, JPEG or PNG files. A file's content did not match these types.")
        if files.image_too_large(upload.data, content_type):
            return [], Message(
                N_("The image %(name)s is too large: at most 40 megapixels and 20,000 pixels on a side."),
                name=files.safe_filename(upload.filename, content_type),
            )
        accepted.append((upload, content_type))
    return accepted, None


def checked(
    edition: EditionView, data: NominationData, *, by_clerk: bool = False
) -> tuple[NominationData, dict[str, str]]:
    """The data cleaned (descriptions of the edition's criteria only) and its fields' problems."""
    data = cleaned(data, edition.categories)
    criteria_ids = [c.id for c in edition.criteria if c.id is not None]
    data = replace(data, descriptions={k: v for k, v in data.descriptions.items() if k in criteria_ids})
    return data, validate(data, criteria_ids, edition.categories, by_clerk=by_clerk)


def prepare(
    edition: EditionView, data: NominationData, uploads: list[Upload], *, by_clerk: bool = False, existing: int = 0
) -> tuple[NominationData, list[tuple[Upload, str]]]:
    """Clean and validate; raise InvalidInput with every field problem at once."""
    data, errors = checked(edition, data, by_clerk=by_clerk)
    accepted, problem = check_uploads(uploads, existing)
    if problem:
        errors["attachments"] = problem
    if errors:
        raise InvalidInput(errors)
    return data, accepted


async def screen(accepted: list[tuple[Upload, str]], rules: UploadRules | None) -> None:
    """Scan the accepted files and check the quota before they are stored (InvalidInput).

    ``rules`` None: those of the default settings (no scanner; development and tests).
    """
    rules = rules or upload_rules.DEVELOPMENT
    named = [(files.safe_filename(upload.filename, content_type), upload.data) for upload, content_type in accepted]
    problem = await upload_rules.scan(named, rules)
    problem = problem or await upload_rules.quota_problem(sum(len(data) for _, data in named), rules)
    if problem:
        raise InvalidInput({"attachments": problem})

"""The clerk's exports as translated sheets: nominations (with their descriptions) and scores.

Headers and values are in the requested language (states, categories by name, consent,
organisation kinds), times in Warsaw time, every text cell passed through
``formal_check.spreadsheet_cell`` (no formula runs when the file is opened). The web layer
writes the sheet as XLSX or as CSV for Excel (``ambassador.spreadsheet``). The raw CSV of
``formal_check.export_rows`` and ``scoring_round.export_rows`` (English codes, commas) stays
for scripts.
"""

from __future__ import annotations

import datetime as dt

from babel.numbers import format_decimal

from ambassador.domain.editions import EditionView, get_edition
from ambassador.domain.formal_check import spreadsheet_cell
from ambassador.domain.nominations import AttachmentInfo, NominationView, attachments_of, view
from ambassador.domain.scoring import submitted_sheets
from ambassador.enums import NominationState
from ambassador.errors import N_
from ambassador.i18n import TIMEZONE, language_name, translate, translate_label
from ambassador.spreadsheet import Cell, Sheet
from ambassador.tables import DecisionItem, Nomination, Proposal
from ambassador.vocabulary import CONSENTS, DISTINCTIONS, NOMINATION_STATES, ORGANISATION_KINDS

NOMINATION_COLUMNS = (
    N_("Reference"),
    N_("State"),
    N_("Distinction"),
    N_("Category"),
    N_("Nominee"),
    N_("Nominee is a minor"),
    N_("Nominee's email"),
    N_("Nominee's phone"),
    N_("Kind of organisation"),
    N_("Website"),
    N_("Registry number (KRS)"),
)
NOMINATOR_COLUMNS = (
    N_("Links"),
    N_("Nominator"),
    N_("Nominator's email"),
    N_("Nominator's phone"),
    N_("Nominator's organisation"),
    N_("Relation to the nominee"),
    N_("Language of the form"),
    N_("Consent"),
    N_("Entered on paper"),
    N_("Received on"),
    N_("Confirmed at"),
    N_("Merged into"),
    N_("Formal check reason"),
    N_("Attachments"),
)


def text(value: object) -> str:
    return spreadsheet_cell(value)


def local_time(value: dt.datetime | None) -> str:
    """A moment in Warsaw time, to the minute, as spreadsheets sort it ("2026-03-01 14:05")."""
    return value.astimezone(TIMEZONE).strftime("%Y-%m-%d %H:%M") if value else ""


def file_size(size: int, language: str) -> str:
    """A file's size as people read it: "12 KB", "3,4 MB" (at least 1 KB)."""
    if size < 1024 * 1024:
        return translate(language, N_("%(size)s KB"), size=max(1, round(size / 1024)))
    return translate(language, N_("%(size)s MB"), size=format_decimal(round(size / (1024 * 1024), 1), locale=language))


def attachment_list(files: tuple[AttachmentInfo, ...], language: str) -> str:
    """The files as one cell: "name (size)" per line."""
    return "\n".join(f"{f.filename} ({file_size(f.size, language)})" for f in files)


def _yes_no(value: bool, language: str) -> str:
    return translate(language, N_("yes") if value else N_("no"))


def descriptions_of(edition: EditionView, n: NominationView, language: str) -> list[tuple[str, str]]:
    """(criterion's name in ``language``, the nominator's text), in the edition's order."""
    known = [c for c in edition.criteria if c.id is not None]
    found = [(c.name(language), n.descriptions.get(c.id or 0, "")) for c in known]
    ids = {c.id for c in known}
    removed = translate(language, N_("A criterion no longer in the edition"))
    found.extend((removed, t) for key, t in sorted(n.descriptions.items()) if key not in ids)
    return found


async def distinctions(edition_id: int) -> dict[int, str]:
    """Each nomination's distinction: the approving body's decision, else the jury's recommendation."""
    proposed = {
        r["nomination"]: r["distinction"]
        for r in await Proposal.select(Proposal.nomination, Proposal.distinction).where(
            (Proposal.edition == edition_id) & (Proposal.nomination.state == NominationState.RECOMMENDED.value)
        )
    }
    decided = {
        r["nomination"]: r["distinction"]
        for r in await DecisionItem.select(DecisionItem.nomination, DecisionItem.distinction).where(
            DecisionItem.nomination.edition == edition_id
        )
    }
    return {**proposed, **decided}


async def nominations(edition_id: int, language: str) -> Sheet:
    """Every confirmed nomination of the edition, one per row, with its descriptions."""
    edition = await get_edition(edition_id)
    rows = (
        await Nomination.select()
        .where((Nomination.edition == edition_id) & (Nomination.state != NominationState.UNCONFIRMED.value))
        .order_by(Nomination.number)
    )
    listed = [view(r) for r in rows]
    files = await attachments_of([n.id for n in listed])
    references = {n.id: n.reference for n in listed}
    distinction = await distinctions(edition_id)
    criteria = [c for c in edition.criteria if c.id is not None]
    header = [translate(language, m) for m in NOMINATION_COLUMNS]
    header += [translate(language, N_("Description: %(criterion)s"), criterion=c.name(language)) for c in criteria]
    # Texts under criteria removed from the edition since: one more column, only when there are any.
    removed = any(len(descriptions_of(edition, n, language)) > len(criteria) for n in listed)
    if removed:
        header.append(translate(language, N_("A criterion no longer in the edition")))
    header += [translate(language, m) for m in NOMINATOR_COLUMNS]
    out: list[tuple[Cell, ...]] = []
    for n in listed:
        texts = descriptions_of(edition, n, language)
        extra = texts[len(criteria) :]
        values: list[object] = [
            n.reference,
            translate_label(language, NOMINATION_STATES, n.state.value),
            translate_label(language, DISTINCTIONS, distinction[n.id]) if distinction.get(n.id) else "",
            edition.category_label(n.category, language),
            n.nominee_name,
            _yes_no(n.nominee_is_minor, language),
            n.nominee_email,
            n.nominee_phone,
            translate_label(language, ORGANISATION_KINDS, n.organisation_kind) if n.organisation_kind else "",
            n.organisation_website,
            n.registry_number,
        ]
        values += [t for _, t in texts[: len(criteria)]]
        if removed:
            values.append("\n\n".join(t for _, t in extra))
        values += [
            "\n".join(n.link_list),
            n.nominator_name,
            n.nominator_email,
            n.nominator_phone,
            n.nominator_organisation,
            n.nominator_relation,
            language_name(n.language),
            translate_label(language, CONSENTS, n.consent.value),
            _yes_no(n.entered_by is not None, language),
            n.received_on.isoformat() if n.received_on else "",
            local_time(n.confirmed_at),
            references.get(n.merged_into or 0, ""),
            n.formal_reason,
            attachment_list(files[n.id], language),
        ]
        out.append(tuple(text(v) for v in values))
    title = translate(language, N_("Nominations %(edition)s"), edition=edition.label)
    return Sheet(title, tuple(header), tuple(out))


async def scores(edition_id: int, language: str) -> Sheet:
    """Every submitted score sheet (conflicted ones left out), one per row, scores as numbers."""
    edition = await get_edition(edition_id)
    found = {
        r["id"]: r
        for r in await Nomination.select(
            Nomination.id, Nomination.reference, Nomination.nominee_name, Nomination.category
        ).where(Nomination.edition == edition_id)
    }
    criteria = [c for c in edition.criteria if c.id is not None]
    header = [translate(language, m) for m in (N_("Reference"), N_("Category"), N_("Nominee"), N_("Juror"))]
    header += [
        translate(language, N_("%(criterion)s (weight %(weight)s)"), criterion=c.name(language), weight=c.weight)
        for c in criteria
    ]
    header += [translate(language, m) for m in (N_("Comment"), N_("Submitted at"))]
    out: list[tuple[Cell, ...]] = []
    for sheet in await submitted_sheets(edition_id):
        row = found[sheet.nomination_id]
        marks: list[Cell] = []
        for c in criteria:
            value = sheet.values.get(c.id or 0)
            marks.append("" if value is None else value)
        out.append(
            (
                text(row["reference"]),
                text(edition.category_label(str(row["category"]), language)),
                text(row["nominee_name"]),
                text(sheet.juror_name),
                *marks,
                text(sheet.comment),
                local_time(sheet.submitted_at),
            )
        )
    title = translate(language, N_("Scores %(edition)s"), edition=edition.label)
    return Sheet(title, tuple(header), tuple(out))

"""The jury's dossier pack: every nomination before the jury in one printable document.

A cover page (the edition, the date, how many nominations), then each nomination on a page
of its own: reference, nominee, category, the nominator's descriptions under each criterion
(and those of nominations merged into it), the links written out, and the list of
attachments (name and size; the files stay on the site). Staff get every nomination the jury
scores; a juror gets the same as their dossier pages: nothing before they have declared
conflicts, and never a nomination they are conflicted on (left out by the query itself).
Like the minutes, a plain ``pdf.Document``; the web layer renders it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from babel.dates import format_date

from ambassador import pdf
from ambassador.db import utcnow
from ambassador.domain import conflicts
from ambassador.domain.editions import EditionView, get_edition
from ambassador.domain.exports import descriptions_of, file_size
from ambassador.domain.jury import JURY_STATES, require_member
from ambassador.domain.nominations import AttachmentInfo, NominationView, attachments_of, view
from ambassador.domain.scoring import SCORED, DeclareFirst
from ambassador.errors import N_, DomainError, NotFound
from ambassador.i18n import TIMEZONE, language_name, translate
from ambassador.tables import Nomination
from ambassador.vocabulary import ORGANISATION_KINDS


class NothingToPack(DomainError):
    message = N_("The dossier pack is available once nominations are shortlisted for the jury.")


def _facts(edition: EditionView, n: NominationView, language: str) -> pdf.Table:
    row = edition.category(n.category)
    facts = [
        (translate(language, N_("Reference")), n.reference),
        (translate(language, N_("Nominee")), n.nominee_name),
        (translate(language, N_("Category")), row.label(language) if row else n.category),
    ]
    if n.organisation_kind:
        kind = ORGANISATION_KINDS.get(n.organisation_kind)
        facts.append(
            (
                translate(language, N_("Kind of organisation")),
                translate(language, kind) if kind else n.organisation_kind,
            )
        )
    if n.organisation_website:
        facts.append((translate(language, N_("Website")), n.organisation_website))
    nominator = f"{n.nominator_name} ({n.nominator_relation})" if n.nominator_relation else n.nominator_name
    facts.append((translate(language, N_("Nominator")), nominator))
    facts.append((translate(language, N_("Language of the form")), language_name(n.language)))
    return pdf.Table((translate(language, N_("Field")), translate(language, N_("Value"))), tuple(facts))


def _attachments(files: list[tuple[str, AttachmentInfo]], language: str) -> pdf.Section:
    heading = translate(language, N_("Attachments"))
    if not files:
        return pdf.Section(heading, (translate(language, N_("None.")),), level=2)
    header = tuple(translate(language, m) for m in (N_("File"), N_("Size"), N_("Nomination")))
    rows = tuple((f.filename, file_size(f.size, language), owner) for owner, f in files)
    return pdf.Section(
        heading,
        (translate(language, N_("The files are on the site, with the dossier.")),),
        (pdf.Table(header, rows),),
        level=2,
    )


def _sections(
    edition: EditionView,
    n: NominationView,
    merged: list[NominationView],
    files: dict[int, tuple[AttachmentInfo, ...]],
    language: str,
) -> list[pdf.Section]:
    """One nomination, from a new page: its facts, each criterion's text, the links, the files."""
    found = [pdf.Section(f"{n.reference} {n.nominee_name}", tables=(_facts(edition, n, language),), new_page=True)]
    not_described = translate(language, N_("Not described."))
    for source in [n, *merged]:
        if source is not n:
            found.append(
                pdf.Section(
                    translate(language, N_("Merged into this nomination: %(reference)s"), reference=source.reference),
                    level=2,
                )
            )
        for criterion, text in descriptions_of(edition, source, language):
            found.append(pdf.Section(criterion, (text or not_described,), level=2))
    links = tuple(line for source in [n, *merged] for line in source.link_list)
    heading = translate(language, N_("Links"))
    found.append(
        pdf.Section(heading, links=links, level=2)
        if links
        else pdf.Section(heading, (translate(language, N_("None.")),), level=2)
    )
    owned = [(source.reference, f) for source in [n, *merged] for f in files.get(source.id, ())]
    found.append(_attachments(owned, language))
    return found


async def _rows(edition_id: int, hidden: set[int]) -> list[dict[str, Any]]:
    query = Nomination.select().where(
        (Nomination.edition == edition_id) & Nomination.state.is_in([s.value for s in SCORED])
    )
    if hidden:
        query = query.where(Nomination.id.not_in(list(hidden)))
    return list(await query.order_by(Nomination.number))


async def _pack(edition: EditionView, hidden: set[int], language: str, today: dt.date | None) -> pdf.Document:
    rows = await _rows(edition.id, hidden)
    if not rows:
        raise NothingToPack()
    listed = [view(r) for r in rows]
    merged_rows = (
        await Nomination.select()
        .where(Nomination.merged_into.is_in([n.id for n in listed]))
        .order_by(Nomination.number)
    )
    merged = [view(r) for r in merged_rows]
    files = await attachments_of([n.id for n in [*listed, *merged]])
    today = today or utcnow().astimezone(TIMEZONE).date()
    produced = translate(language, N_("Produced on %(date)s"), date=format_date(today, "long", locale=language))
    title = translate(language, N_("Dossiers for the jury, %(edition)s"), edition=edition.label)
    count = translate(language, N_("Nominations in this pack: %(count)s"), count=len(listed))
    sections = tuple(
        section
        for n in listed
        for section in _sections(edition, n, [m for m in merged if m.merged_into == n.id], files, language)
    )
    return pdf.Document(
        title=title,
        subtitle=edition.name(language),
        sections=sections,
        footer=f"{edition.label} · {produced}",
        cover=(produced, count, *(f"{n.reference} {n.nominee_name}" for n in listed)),
    )


async def for_staff(edition_id: int, language: str, today: dt.date | None = None) -> pdf.Document:
    """Every nomination the jury scores (staff only: the web layer guards it)."""
    edition = await get_edition(edition_id)
    return await _pack(edition, set(), language, today)


async def for_juror(edition_id: int, juror_id: int, language: str, today: dt.date | None = None) -> pdf.Document:
    """The pack as this juror may read it: NotFound for non-members, DeclareFirst before declaring.

    The nominations the juror is conflicted on are left out of the query.
    """
    await require_member(edition_id, juror_id)
    edition = await get_edition(edition_id)
    if edition.state not in JURY_STATES:
        raise NotFound()
    if not await conflicts.declared_all(edition_id, juror_id):
        raise DeclareFirst()
    hidden = await conflicts.conflicted_ids(edition_id, juror_id)
    return await _pack(edition, hidden, language, today)

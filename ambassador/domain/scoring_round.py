"""The scoring round as the clerk and the chair run it: open it, follow progress, remind, close, export.

The jurors' own side (dossiers, sheets, saving) is in ``scoring``.
"""

from dataclasses import dataclass

from ambassador import honour
from ambassador.db import write_transaction
from ambassador.domain import audit, conflicts, editions
from ambassador.domain.editions import EditionView, get_edition
from ambassador.domain.formal_check import spreadsheet_cell
from ambassador.domain.jury import Juror, members, require_chair, rules_of
from ambassador.domain.outbox import queue_mail
from ambassador.domain.scoring import SCORED, ScoringClosed, submitted_sheets
from ambassador.domain.window_mails import when
from ambassador.enums import EditionState, SheetStatus
from ambassador.errors import N_, NotAllowed
from ambassador.i18n import translate
from ambassador.tables import Nomination, ScoreSheet


@dataclass(frozen=True)
class Progress:
    juror: Juror
    to_score: int
    drafts: int
    submitted: int
    conflicted: int
    declared_all: bool

    @property
    def left(self) -> int:
        return self.to_score - self.submitted


async def _scored_ids(edition_id: int) -> list[int]:
    rows = await Nomination.select(Nomination.id).where(
        (Nomination.edition == edition_id) & Nomination.state.is_in([s.value for s in SCORED])
    )
    return [r["id"] for r in rows]


async def progress(edition_id: int) -> list[Progress]:
    """Who has scored what (for the clerk, the chair, and each juror's own line)."""
    scored = set(await _scored_ids(edition_id))
    sheets = await ScoreSheet.select(ScoreSheet.juror, ScoreSheet.nomination, ScoreSheet.status).where(
        ScoreSheet.edition == edition_id
    )
    result = []
    for juror in await members(edition_id):
        blocked = await conflicts.conflicted_ids(edition_id, juror.user_id) & scored
        mine = [s for s in sheets if s["juror"] == juror.user_id and s["nomination"] in scored - blocked]
        result.append(
            Progress(
                juror=juror,
                to_score=len(scored - blocked),
                drafts=sum(1 for s in mine if s["status"] == SheetStatus.DRAFT.value),
                submitted=sum(1 for s in mine if s["status"] == SheetStatus.SUBMITTED.value),
                conflicted=len(blocked),
                declared_all=await conflicts.has_declared_all(edition_id, juror.user_id),
            )
        )
    return result


async def remind(*, actor_id: int, edition_id: int, base_url: str) -> int:
    """Mail every juror who still has nominations to score or conflicts to declare."""
    edition = await get_edition(edition_id)
    if edition.state != EditionState.JURY_SCORING:
        raise ScoringClosed()
    behind = [p for p in await progress(edition_id) if p.left > 0 or not p.declared_all]
    async with write_transaction():
        for p in behind:
            language = p.juror.language
            await queue_mail(
                to=p.juror.email,
                subject=translate(language, N_("Reminder: scoring for %(edition)s"), edition=edition.label),
                body="\n\n".join(
                    [
                        translate(language, N_("Hello %(name)s,"), name=p.juror.display_name),
                        translate(
                            language,
                            N_("You still have %(count)s nominations to score in %(edition)s."),
                            count=p.left,
                            edition=edition.label,
                        ),
                        f"{base_url}/jury/editions/{edition_id}",
                    ]
                ),
                language=language,
            )
        await audit.record(
            "scoring.reminded",
            actor_id=actor_id,
            object_type="edition",
            object_id=edition_id,
            data={"jurors": [p.juror.user_id for p in behind]},
        )
    return len(behind)


async def open_scoring(*, actor_id: int, edition_id: int, base_url: str) -> EditionView:
    """The clerk opens scoring: the edition's precondition, a jury with a chair, then detection.

    Each juror is told by mail, in their language, with the deadline when one is set. One
    transaction: a refusal changes nothing (no mail), and scoring never opens without detection.
    """
    async with write_transaction():
        opened = await editions.advance(actor_id=actor_id, edition_id=edition_id, target=EditionState.JURY_SCORING)
        jurors = await members(edition_id)
        if not jurors:
            raise NotAllowed(N_("Appoint the jury first."))
        if not any(j.is_chair for j in jurors):
            raise NotAllowed(N_("Name the chair of the jury first."))
        minimum = (await rules_of(edition_id)).min_scores
        if len(jurors) < minimum:  # no nomination could be ranked: refused here too, not only in steps
            raise NotAllowed(
                N_(
                    "Jury members: %(jurors)d. A nomination needs at least %(minimum)d scores to be ranked: "
                    "appoint more jurors or lower the minimum in the jury's rules."
                ),
                jurors=len(jurors),
                minimum=minimum,
            )
        await conflicts.detect(edition_id)
        deadline = (await rules_of(edition_id)).scoring_closes_at
        for juror in jurors:
            await _mail_opened(juror, opened, deadline=when(deadline) if deadline else "", base_url=base_url)
    return opened


async def _mail_opened(juror: Juror, edition: EditionView, *, deadline: str, base_url: str) -> None:
    language = juror.language
    paragraphs = [
        translate(language, N_("Hello %(name)s,"), name=juror.display_name),
        translate(
            language,
            N_(
                "Scoring for the title %(title)s, %(edition)s, has opened. Declare your possible conflicts "
                "of interest first; then the nominations are yours to read and score."
            ),
            title=honour.active().text("name", language),
            edition=edition.label,
        ),
    ]
    if deadline:
        paragraphs.append(translate(language, N_("Please submit your score sheets by %(moment)s."), moment=deadline))
    paragraphs.append(f"{base_url}/jury/editions/{edition.id}")
    await queue_mail(
        to=juror.email,
        subject=translate(language, N_("Scoring has opened: %(edition)s"), edition=edition.label),
        body="\n\n".join(paragraphs),
        language=language,
    )


async def close_scoring(*, chair_id: int, edition_id: int) -> EditionView:
    """Only the chair closes scoring; after this no score changes."""
    await require_chair(edition_id, chair_id)
    return await editions.advance(
        actor_id=chair_id, edition_id=edition_id, target=EditionState.DELIBERATION, owned_step=True
    )


async def export_rows(edition_id: int) -> list[list[str]]:
    """All submitted scores as CSV rows for the clerk, header first."""
    edition = await get_edition(edition_id)
    references = {
        r["id"]: (r["reference"], r["nominee_name"], r["category"])
        for r in await Nomination.select(
            Nomination.id, Nomination.reference, Nomination.nominee_name, Nomination.category
        ).where(Nomination.edition == edition_id)
    }
    criteria = [c for c in edition.criteria if c.id is not None]
    header = [
        "reference",
        "category",
        "nominee",
        "juror",
        *[f"criterion {i + 1} (weight {c.weight})" for i, c in enumerate(criteria)],
        "comment",
    ]
    rows = [header]
    for sheet in await submitted_sheets(edition_id):
        reference, nominee, category = references[sheet.nomination_id]
        values = (
            reference,
            category,
            nominee,
            sheet.juror_name,
            *["" if sheet.values.get(c.id or 0) is None else str(sheet.values.get(c.id or 0)) for c in criteria],
            sheet.comment,
        )
        rows.append([spreadsheet_cell(value) for value in values])
    return rows

"""What waits for whom: the staff home's to-do list, per edition, with counts.

Each chore names work that someone has to do and how many items wait for it; the web layer
links each chore to the page where it is done. Only counts are read here (no names, no
texts), so the list is cheap and shows nothing a clerk could not see on the linked page.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ambassador.domain import laureates, scoring_round
from ambassador.domain.editions import EditionView, list_editions
from ambassador.domain.formal_check import find_duplicates
from ambassador.domain.nominations import view
from ambassador.enums import ConsentState, DetectionStatus, EditionState, NominationState
from ambassador.tables import DetectedConflict, Nomination


class Chore(StrEnum):
    SET_UP = "set_up"  # a draft: categories, criteria, dates, then open it
    CHECK = "check"  # nominations awaiting the formal check
    CONSENTS = "consents"  # nominees who have not answered the consent request
    DUPLICATES = "duplicates"  # nominations that may be the same nominee
    DETECTIONS = "detections"  # detected conflicts awaiting a decision
    DECLARATIONS = "declarations"  # jurors who have not declared on every nomination
    SCORES = "scores"  # jurors with scores still to submit
    CHAIR = "chair"  # the chair closes scoring, the jury votes, the chair signs
    DECISION = "decision"  # the recommendation is signed: record the approving body's decision
    CITATIONS = "citations"  # laureates without a citation in every language
    CONFIRMATIONS = "confirmations"  # laureates who have not confirmed their entry
    PUBLICATION = "publication"  # approved: choose the moment of publication


@dataclass(frozen=True)
class Task:
    chore: Chore
    count: int  # how many items wait; 1 for a single step


@dataclass(frozen=True)
class EditionTasks:
    edition: EditionView
    tasks: tuple[Task, ...]


# Nominations still in play: a pending consent among these is worth a reminder.
_IN_PLAY = (
    NominationState.SUBMITTED,
    NominationState.ACCEPTED,
    NominationState.SHORTLISTED,
    NominationState.RECOMMENDED,
    NominationState.APPROVED,
    NominationState.LAUREATE,
)
_CHECKING = (EditionState.OPEN, EditionState.FORMAL_CHECK)


async def _formal_check(edition_id: int) -> list[Task]:
    edition = Nomination.edition == edition_id
    to_check = await Nomination.count().where(edition & (Nomination.state == NominationState.SUBMITTED.value))
    consents = await Nomination.count().where(
        edition
        & (Nomination.consent == ConsentState.PENDING.value)
        & Nomination.state.is_in([s.value for s in _IN_PLAY])
    )
    rows = await Nomination.select().where(
        (Nomination.edition == edition_id) & (Nomination.state != NominationState.UNCONFIRMED.value)
    )
    duplicates = len(find_duplicates([view(r) for r in rows]))
    return [Task(Chore.CHECK, to_check), Task(Chore.CONSENTS, consents), Task(Chore.DUPLICATES, duplicates)]


async def _scoring(edition_id: int) -> list[Task]:
    detections = await DetectedConflict.count().where(
        (DetectedConflict.edition == edition_id) & (DetectedConflict.status == DetectionStatus.PENDING.value)
    )
    progress = await scoring_round.progress(edition_id)
    return [
        Task(Chore.DETECTIONS, detections),
        Task(Chore.DECLARATIONS, sum(1 for p in progress if not p.declared_all)),
        Task(Chore.SCORES, sum(1 for p in progress if p.left > 0)),
    ]


async def _laureates(edition_id: int) -> list[Task]:
    waiting = await laureates.unfinished(edition_id)
    return [Task(Chore.CITATIONS, len(waiting.citation_missing)), Task(Chore.CONFIRMATIONS, len(waiting.unconfirmed))]


async def for_edition(edition: EditionView) -> tuple[Task, ...]:
    """The chores an edition waits for in its state; chores with nothing waiting are left out."""
    state = edition.state
    tasks: list[Task] = []
    if edition.historical:
        return ()
    if state == EditionState.DRAFT:
        tasks.append(Task(Chore.SET_UP, 1))
    if state in _CHECKING:
        tasks += await _formal_check(edition.id)
    if state == EditionState.JURY_SCORING:
        tasks += await _scoring(edition.id)
    if state in (EditionState.JURY_SCORING, EditionState.DELIBERATION):
        tasks.append(Task(Chore.CHAIR, 1))
    if state == EditionState.RECOMMENDED:
        tasks.append(Task(Chore.DECISION, 1))
    if state in (EditionState.APPROVED, EditionState.PUBLISHED):
        tasks += await _laureates(edition.id)
    if state == EditionState.APPROVED:
        tasks.append(Task(Chore.PUBLICATION, 1))
    return tuple(task for task in tasks if task.count > 0)


async def for_clerk() -> list[EditionTasks]:
    """Every edition with something waiting, newest first."""
    found = []
    for edition in sorted(await list_editions(), key=lambda e: e.activity_year, reverse=True):
        if tasks := await for_edition(edition):
            found.append(EditionTasks(edition, tasks))
    return found

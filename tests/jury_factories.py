"""An edition in jury scoring with shortlisted nominations and an appointed jury, made through the domain."""

from __future__ import annotations

from dataclasses import dataclass

from ambassador.domain import (
    conflict_declarations,
    consent,
    formal_check,
    jury,
    scoring,
    scoring_round,
)
from ambassador.domain.accounts import Account
from ambassador.domain.editions import EditionView
from ambassador.domain.jury import JuryRules
from ambassador.domain.nominations import Upload
from ambassador.domain.scoring import ScoreInput, SheetView
from ambassador.enums import Role
from tests.clerk_factories import BASE, PNG, checked_edition, paper_nomination
from tests.factories import make_user

# Jurors on their own mail domain, with names that appear in no nomination: no detected conflicts.
JURORS: tuple[tuple[str, str], ...] = (
    ("ewa.pawlak@jury.example.net", "Ewa Pawlak"),
    ("marta.krawczyk@jury.example.net", "Marta Krawczyk"),
    ("tomasz.dudek@jury.example.net", "Tomasz Dudek"),
)
# Two category-B nominations (each with a scan); the second differs in every personal field.
NOMINEES: tuple[dict[str, object], ...] = (
    {},
    {
        "nominee_name": "Bohdan Melnyk",
        "nominee_email": "bohdan@example.org",
        "nominator_name": "Piotr Zieliński",
        "nominator_email": "piotr@example.org",
    },
)


@dataclass(frozen=True)
class Scoring:
    """The edition, its clerk, the shortlisted nominations and the jurors (the first is the chair)."""

    edition: EditionView
    clerk: Account
    nominations: tuple[int, ...]
    jurors: tuple[Account, ...]

    @property
    def chair(self) -> Account:
        return self.jurors[0]

    @property
    def criteria(self) -> list[int]:
        return [c.id for c in self.edition.criteria if c.id is not None]


def _fields(edition: EditionView, changes: dict[str, object]) -> dict[str, object]:
    """Nomination fields; ``texts`` gives descriptions by the criterion's position in the edition."""
    fields = dict(changes)
    texts = fields.pop("texts", None)
    if isinstance(texts, dict):
        fields["descriptions"] = {edition.criteria[index].id: text for index, text in texts.items()}
    return fields


async def accepted(edition: EditionView, *, clerk_id: int, uploads: list[Upload], **changes: object) -> int:
    """A paper nomination the clerk accepted formally."""
    nomination_id = await paper_nomination(
        edition, clerk_id=clerk_id, uploads=uploads, received_on=None, **_fields(edition, changes)
    )
    await formal_check.decide(actor_id=clerk_id, nomination_id=nomination_id, accept=True, reason="")
    return nomination_id


async def shortlist(*, clerk_id: int, nomination_id: int) -> None:
    """Consent recorded on paper, then shortlisted for the jury."""
    await consent.record_paper_consent(actor_id=clerk_id, nomination_id=nomination_id, given=True, note="Binder 1")
    await formal_check.shortlist(actor_id=clerk_id, nomination_id=nomination_id)


async def scoring_edition(
    *,
    year: int = 2025,
    jurors: tuple[tuple[str, str], ...] = JURORS,
    nominees: tuple[dict[str, object], ...] = NOMINEES,
    duplicate: dict[str, object] | None = None,
    rules: JuryRules | None = None,
    languages: tuple[str, ...] = (),
) -> Scoring:
    """An edition in jury scoring; conflicts are detected as scoring opens, none are declared yet.

    ``duplicate``: a second nomination (with a file of its own) merged into the first one.
    ``languages``: the jurors' languages, in order (Polish for the rest).
    """
    clerk = await make_user(f"clerk{year}@example.org", (Role.CLERK,), name="Celina Clerk")
    edition = await checked_edition(clerk_id=clerk.id, year=year)
    ids = []
    for number, changes in enumerate(nominees, start=1):
        nomination_id = await accepted(
            edition, clerk_id=clerk.id, uploads=[Upload(f"scan {number}.png", PNG)], **changes
        )
        if number == 1 and duplicate is not None:
            copy = await paper_nomination(
                edition,
                clerk_id=clerk.id,
                uploads=[Upload("duplicate.png", PNG)],
                received_on=None,
                **_fields(edition, duplicate),
            )
            await formal_check.merge(actor_id=clerk.id, target_id=nomination_id, duplicate_id=copy)
        await shortlist(clerk_id=clerk.id, nomination_id=nomination_id)
        ids.append(nomination_id)
    spoken = (*languages, *("pl",) * len(jurors))
    accounts = [
        await make_user(email, (Role.JUROR,), name=name, language=language)
        for (email, name), language in zip(jurors, spoken, strict=False)
    ]
    for account in accounts:
        await jury.appoint(actor_id=clerk.id, edition_id=edition.id, user_id=account.id, base_url=BASE)
    await jury.set_chair(actor_id=clerk.id, edition_id=edition.id, user_id=accounts[0].id)
    if rules is None and len(accounts) < JuryRules().min_scores:
        # Scoring does not open for a jury smaller than its minimum of scores: a small test jury
        # ranks with what it has.
        rules = JuryRules(min_scores=len(accounts))
    if rules is not None:
        await jury.set_rules(actor_id=clerk.id, edition_id=edition.id, rules=rules)
    opened = await scoring_round.open_scoring(base_url=BASE, actor_id=clerk.id, edition_id=edition.id)
    return Scoring(edition=opened, clerk=clerk, nominations=tuple(ids), jurors=tuple(accounts))


async def declare_none(setup: Scoring, juror: Account, *, except_for: tuple[int, ...] = ()) -> None:
    """The juror declares no conflict on every nomination (but those in ``except_for``)."""
    for nomination_id in setup.nominations:
        if nomination_id not in except_for:
            await conflict_declarations.declare(
                juror_id=juror.id, edition_id=setup.edition.id, nomination_id=nomination_id, conflicted=False
            )


async def submit_scores(
    setup: Scoring, juror: Account, nomination_id: int, value: int, *, comment: str = "", remark: str = ""
) -> SheetView:
    """The juror submits ``value`` for every criterion, ``remark`` on the first, ``comment`` overall."""
    first = setup.criteria[0]
    return await scoring.save(
        juror_id=juror.id,
        nomination_id=nomination_id,
        data=ScoreInput(
            values=dict.fromkeys(setup.criteria, value),
            comments={first: remark} if remark else {},
            comment=comment,
        ),
        submit=True,
    )

"""A score save, a declaration and the standings send a fixed number of queries, whatever the edition's size.

Counts, not timings: the same work on editions of 3 and 30 nominations and of 3 and 10 jurors
must send the database the same number of queries; a score save and a declaration must also
read the same number of rows, and no query of the standings may carry a parameter per sheet (an IN list).
The narrow conflict reads are checked against the matrix they stand in for.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from piccolo.querystring import QueryString

from ambassador.db import utcnow, write_transaction
from ambassador.domain import conflict_declarations, conflicts, jury, results, scoring, scoring_round
from ambassador.domain.accounts import Account
from ambassador.domain.scoring import ScoreInput
from ambassador.enums import ConflictKind, DetectionStatus, NominationState, Role, SheetStatus
from ambassador.errors import NotFound
from ambassador.piccolo_conf import DB
from ambassador.tables import ConflictDeclaration, DetectedConflict, Edition, Nomination, Score, ScoreSheet
from tests.clerk_factories import BASE, checked_edition, english
from tests.conftest import Client
from tests.factories import make_user
from tests.helpers import login, post_form

# (nominations, jurors) per edition: the first is the small one the others are compared with.
SHAPES = ((3, 3), (30, 3), (3, 10))


@dataclass(frozen=True)
class Scene:
    """An edition in jury scoring, everyone declared, every sheet submitted but one; three conflicts:

    juror 2 declared one on nomination 2, juror 3 has a pending detection on nomination 3 (with a
    submitted sheet, which the second safeguard must drop), juror 2 a dismissed one on nomination 3.
    Juror 1 (the chair) has no sheet yet on nomination 1.
    """

    edition_id: int
    criteria: list[int]
    nominations: list[int]
    jurors: list[Account]


async def _scene(year: int, nominations: int, jurors: int) -> Scene:
    clerk = await make_user(f"clerk{year}@example.org", (Role.CLERK,), name="Celina Clerk")
    edition = await checked_edition(clerk_id=clerk.id, year=year)
    criteria = [c.id for c in edition.criteria if c.id is not None]
    now = utcnow()
    async with write_transaction():
        await Nomination.insert(
            *[
                Nomination(
                    edition=edition.id,
                    number=n,
                    reference=f"{year}/{n:04d}",
                    state=NominationState.SHORTLISTED.value,
                    category="B",
                    nominee_name=f"Nominee {year} {n:04d}",
                    nominee_key=f"nominee {year} {n:04d}",
                    nominee_email=f"nominee.{year}.{n}@nominees.example.org",
                    descriptions=json.dumps({str(criteria[0]): "A text."}),
                    nominator_name=f"Nominator {year} {n:04d}",
                    nominator_email=f"nominator.{year}.{n}@nominators.example.org",
                    submission_key=f"queries-{year}-{n}",
                    consent="given",
                    created_at=now - dt.timedelta(days=30),
                    confirmed_at=now - dt.timedelta(days=30),
                )
                for n in range(1, nominations + 1)
            ]
        )
        await Edition.update({Edition.next_number: nominations + 1}).where(Edition.id == edition.id)
    ids = [
        int(r["id"])
        for r in await Nomination.select(Nomination.id).where(Nomination.edition == edition.id).order_by(Nomination.id)
    ]
    accounts = [
        await make_user(f"juror{k}.{year}@jury.example.net", (Role.JUROR,), name=f"Juror {year} {k:02d}")
        for k in range(1, jurors + 1)
    ]
    for account in accounts:
        await jury.appoint(actor_id=clerk.id, edition_id=edition.id, user_id=account.id, base_url=BASE)
    await jury.set_chair(actor_id=clerk.id, edition_id=edition.id, user_id=accounts[0].id)
    await scoring_round.open_scoring(base_url=BASE, actor_id=clerk.id, edition_id=edition.id)
    first, second, third = accounts[0].id, accounts[1].id, accounts[2].id
    declared = (second, ids[1])
    async with write_transaction():
        await ConflictDeclaration.insert(
            *[
                ConflictDeclaration(
                    edition=edition.id,
                    juror=a.id,
                    nomination=n,
                    conflicted=(a.id, n) == declared,
                    kind=ConflictKind.FAMILY.value if (a.id, n) == declared else "",
                    declared_at=now,
                )
                for a in accounts
                for n in ids
            ]
        )
        await DetectedConflict.insert(
            DetectedConflict(
                edition=edition.id,
                juror=third,
                nomination=ids[2],
                status=DetectionStatus.PENDING.value,
                detected_at=now,
            ),
            DetectedConflict(
                edition=edition.id,
                juror=second,
                nomination=ids[2],
                status=DetectionStatus.DISMISSED.value,
                detected_at=now,
            ),
        )
        await ScoreSheet.insert(
            *[
                ScoreSheet(
                    edition=edition.id,
                    juror=a.id,
                    nomination=n,
                    status=SheetStatus.SUBMITTED.value,
                    comment="",
                    updated_at=now,
                    submitted_at=now,
                )
                for a in accounts
                for n in ids
                if (a.id, n) not in {(first, ids[0]), declared}
            ]
        )
        sheets = await ScoreSheet.select(ScoreSheet.id).where(ScoreSheet.edition == edition.id)
        await Score.insert(*[Score(sheet=s["id"], criterion=c, value=5) for s in sheets for c in criteria])
    return Scene(edition_id=edition.id, criteria=criteria, nominations=ids, jurors=accounts)


async def _scenes() -> list[Scene]:
    return [await _scene(2030 + k, nominations, jurors) for k, (nominations, jurors) in enumerate(SHAPES)]


@dataclass
class Counted:
    queries: int = 0
    rows: int = 0
    most_parameters: int = 0  # of one statement


class Queries:
    """Counts the statements sent to the database (every Piccolo query goes through these two)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now: Counted | None = None
        engine = type(DB)
        run_querystring, run_ddl = engine.run_querystring, engine.run_ddl

        def seen(parameters: int, result: Any) -> None:
            if self.now is not None:
                self.now.queries += 1
                self.now.rows += len(result) if isinstance(result, list) else 0
                self.now.most_parameters = max(self.now.most_parameters, parameters)

        async def counted_querystring(db: Any, querystring: QueryString, *args: Any, **kwargs: Any) -> Any:
            result = await run_querystring(db, querystring, *args, **kwargs)
            seen(len(querystring.compile_string(db.engine_type)[1]), result)
            return result

        async def counted_ddl(db: Any, *args: Any, **kwargs: Any) -> Any:
            result = await run_ddl(db, *args, **kwargs)
            seen(0, result)
            return result

        monkeypatch.setattr(engine, "run_querystring", counted_querystring)
        monkeypatch.setattr(engine, "run_ddl", counted_ddl)

    @contextmanager
    def counting(self, into: list[Counted]) -> Iterator[None]:
        self.now = Counted()
        into.append(self.now)
        try:
            yield
        finally:
            self.now = None


@pytest.fixture
def queries(monkeypatch: pytest.MonkeyPatch) -> Queries:
    return Queries(monkeypatch)


def _all_equal(counts: list[int]) -> bool:
    return len(set(counts)) == 1


def _queries(counted: list[Counted]) -> list[int]:
    return [c.queries for c in counted]


def _rows(counted: list[Counted]) -> list[int]:
    return [c.rows for c in counted]


async def test_a_score_save_makes_the_same_few_queries_whatever_the_editions_size(queries: Queries) -> None:
    scenes = await _scenes()
    first_saves: list[Counted] = []
    revisions: list[Counted] = []
    reads: list[Counted] = []
    for scene in scenes:
        chair, nomination = scene.jurors[0].id, scene.nominations[0]
        data = ScoreInput(values=dict.fromkeys(scene.criteria, 7), comment="Fine")
        with queries.counting(first_saves):
            sheet = await scoring.save(juror_id=chair, nomination_id=nomination, data=data, submit=True)
        assert (sheet.status, set(sheet.values.values()), sheet.comment) == (SheetStatus.SUBMITTED, {7}, "Fine")
        with queries.counting(revisions):
            revised = await scoring.save(
                juror_id=chair,
                nomination_id=nomination,
                data=lambda edition: ScoreInput(values={c.id: 8 for c in edition.criteria if c.id is not None}),
                submit=False,
            )
        assert revised == (await scoring.own_sheet(chair, nomination))
        with queries.counting(reads):
            others = await scoring.others_sheets(chair, scene.nominations[2])
        # The pending detection's sheet is left out; the dismissed detection's juror counts.
        assert scene.jurors[2].id not in {s.juror_id for s in others}
        assert scene.jurors[1].id in {s.juror_id for s in others}
    for counted in (first_saves, revisions):
        assert _all_equal(_queries(counted)), counted
        assert _all_equal(_rows(counted)), counted
    assert _all_equal(_queries(reads)), reads  # its rows: the other jurors' sheets
    assert max(_queries(first_saves + revisions)) <= 15, (first_saves, revisions)


async def test_posting_a_score_sheet_makes_the_same_queries_whatever_the_editions_size(
    client: Client, queries: Queries
) -> None:
    scenes = await _scenes()
    posts: list[Counted] = []
    for scene in scenes:
        chair = scene.jurors[0]
        assert (await login(client, chair.email)).status_code == 302
        english(client)
        form: dict[str, str | list[str]] = {"action": "submit"}
        form.update({f"score_{c}": "6" for c in scene.criteria})
        url = f"/jury/nominations/{scene.nominations[0]}/score"
        for _ in range(2):  # the first save, then a revision
            with queries.counting(posts):
                response = await post_form(client, url, form)
            assert response.status_code == 302, response.text
            assert response.headers["location"] == f"/jury/nominations/{scene.nominations[0]}"
    for counted in (posts[0::2], posts[1::2]):
        assert _all_equal(_queries(counted)), counted
        assert _all_equal(_rows(counted)), counted


async def test_standings_make_the_same_queries_whatever_the_editions_size(queries: Queries) -> None:
    scenes = await _scenes()
    counts: list[Counted] = []
    for scene in scenes:
        with queries.counting(counts):
            found = await results.compute(scene.edition_id)
        second, third = scene.jurors[1], scene.jurors[2]
        assert found.excluded == {
            scene.nominations[1]: (second.display_name,),
            scene.nominations[2]: (third.display_name,),
        }
        assert set(found.jurors) == {j.id for j in scene.jurors}
        assert set(found.computed.nominations) == set(scene.nominations)
    assert _all_equal(_queries(counts)), counts
    assert _all_equal([c.most_parameters for c in counts]), counts


async def test_a_declaration_reads_the_same_rows_whatever_the_editions_size(queries: Queries) -> None:
    scenes = await _scenes()
    declared: list[Counted] = []
    withdrawn: list[Counted] = []
    for scene in scenes:
        juror, nomination = scene.jurors[2].id, scene.nominations[0]
        with queries.counting(declared):
            await conflict_declarations.declare(
                juror_id=juror,
                edition_id=scene.edition_id,
                nomination_id=nomination,
                conflicted=True,
                kind=ConflictKind.FAMILY.value,
            )
        sheet = await ScoreSheet.select(ScoreSheet.status).where(
            (ScoreSheet.juror == juror) & (ScoreSheet.nomination == nomination)
        )
        assert sheet == [{"status": SheetStatus.VOID.value}]
        with queries.counting(withdrawn):
            await conflict_declarations.declare(
                juror_id=juror, edition_id=scene.edition_id, nomination_id=nomination, conflicted=False
            )
        listed = await conflict_declarations.declaration_list(scene.edition_id, juror)
        assert [(item.nomination_id, item.answered, item.conflicted) for item in listed] == [
            (n, True, False) for n in scene.nominations
        ]
    for counted in (declared, withdrawn):
        assert _all_equal(_queries(counted)), counted
        assert _all_equal(_rows(counted)), counted
    # Only a nomination of this edition that is before the jury can be declared on.
    small, large = scenes[0], scenes[1]
    await Nomination.update({Nomination.state: NominationState.REJECTED.value}).where(
        Nomination.id == small.nominations[2]
    )
    for nomination in (small.nominations[2], large.nominations[0]):
        with pytest.raises(NotFound):
            await conflict_declarations.declare(
                juror_id=small.jurors[0].id, edition_id=small.edition_id, nomination_id=nomination, conflicted=False
            )
    listed = await conflict_declarations.declaration_list(small.edition_id, small.jurors[0].id)
    assert [item.nomination_id for item in listed] == small.nominations[:2]


async def test_the_narrow_conflict_reads_agree_with_the_matrix() -> None:
    scene = await _scene(2030, 4, 3)
    edition_id = scene.edition_id
    # One more detection, confirmed; and a juror who has not answered for every nomination.
    await DetectedConflict.insert(
        DetectedConflict(
            edition=edition_id,
            juror=scene.jurors[0].id,
            nomination=scene.nominations[3],
            status=DetectionStatus.CONFIRMED.value,
            detected_at=utcnow(),
        )
    )
    await ConflictDeclaration.delete().where(
        (ConflictDeclaration.juror == scene.jurors[2].id) & (ConflictDeclaration.nomination == scene.nominations[0])
    )
    matrix = await conflicts.matrix(edition_id)
    pairs = conflicts.conflicted_pairs(matrix)
    found = await conflicts.exclusions(edition_id)
    assert found.pairs == pairs
    assert len(pairs) == 3
    for nomination in scene.nominations:
        assert [j.user_id for j in found.excluded(nomination)] == [
            j.user_id for j in conflicts.excluded(matrix, nomination)
        ]
        assert await conflicts.conflicted_jurors(edition_id, nomination) == {j for j, n in pairs if n == nomination}
    for juror in scene.jurors:
        blocked = await conflicts.conflicted_ids(edition_id, juror.id)
        for nomination in scene.nominations:
            assert await conflicts.is_conflicted(edition_id, juror.id, nomination) == (nomination in blocked)
        listed = await conflict_declarations.declaration_list(edition_id, juror.id)
        assert await conflicts.has_declared_all(edition_id, juror.id) == all(item.answered for item in listed)
    assert [await conflicts.has_declared_all(edition_id, j.id) for j in scene.jurors] == [True, True, False]

"""The deliberation pages: every juror votes on the proposals they are not conflicted on; the chair
proposes, withdraws and signs the recommendation; the clerk follows the tallies.

Who may do what is decided in the domain (``domain.deliberation``); refusals of a rule come back
as the page with the message (409), never as an error.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST, HTTP_409_CONFLICT

from ambassador import i18n
from ambassador.domain import bulk, conflicts, deliberation, jury, minutes, results
from ambassador.domain import chair_steps as chair_domain
from ambassador.domain.accounts import Account
from ambassador.domain.deliberation import Tally
from ambassador.domain.editions import EditionView
from ambassador.domain.jury import Juror, JuryRules
from ambassador.domain.results import Standings
from ambassador.enums import Distinction, EditionState, Role, VoteChoice
from ambassador.errors import N_, DomainError, NotAcknowledged, NotFound
from ambassador.settings import Settings
from ambassador.web import chair_steps, labels
from ambassador.web.bulk import flash_outcome, flash_refusal
from ambassador.web.downloads import NO_STORE
from ambassador.web.editions import edition_or_404, message_of
from ambassador.web.errors import refuse_or_redirect
from ambassador.web.forms import MAX_ROW_ID, read_form, require_row_id
from ambassador.web.guards import requires_role, totp_enrolled
from ambassador.web.jury import member_edition
from ambassador.web.results import chair_edition
from ambassador.web.results_chart import two_places

AnyRequest = Request[Any, Account, Any]


@dataclass(frozen=True)
class Counted:
    """A proposal's tally as the chair and the clerk see it."""

    tally: Tally
    passed: bool
    by_chair: bool
    result: str
    excluded: tuple[str, ...]


@dataclass(frozen=True)
class Candidate:
    """A shortlisted nomination in ranking order, for the chair to propose."""

    nomination_id: int
    rank: int | None
    reference: str
    nominee: str
    score: float | None
    proposal: Tally | None


@dataclass(frozen=True)
class CategoryChoice:
    category: str
    candidates: tuple[Candidate, ...]
    titles: int
    mentions: int
    titles_taken: int
    mentions_taken: int

    @property
    def can_propose_title(self) -> bool:
        return self.titles_taken < self.titles

    @property
    def can_propose_mention(self) -> bool:
        return self.mentions_taken < self.mentions


def counted(tallies: list[Tally], rules: JuryRules, names: dict[int, str]) -> list[Counted]:
    language = i18n.current_language.get()
    result = []
    for t in tallies:
        passed, by_chair = deliberation.decide(t, rules.majority)
        result.append(
            Counted(
                tally=t,
                passed=passed,
                by_chair=by_chair,
                result=minutes.vote_result(t, rules.majority, language),
                excluded=tuple(names.get(j, str(j)) for j in t.excluded),
            )
        )
    return result


def category_choices(s: Standings, tallies: list[Tally]) -> list[CategoryChoice]:
    proposed = {t.nomination_id: t for t in tallies}
    choices = []
    for category, ranking in s.ordered_rankings():
        candidates = [
            Candidate(
                nomination_id=p.nomination_id,
                rank=p.rank,
                reference=s.references.get(p.nomination_id, ""),
                nominee=s.nominees.get(p.nomination_id, ""),
                score=p.score,
                proposal=proposed.get(p.nomination_id),
            )
            for p in ranking.ranked
        ]
        candidates += [
            Candidate(
                nomination_id=n,
                rank=None,
                reference=s.references.get(n, ""),
                nominee=s.nominees.get(n, ""),
                score=None,
                proposal=proposed.get(n),
            )
            for n in ranking.not_rankable
        ]
        mine = [t for t in tallies if t.category == category]
        row = s.edition.category(category)
        choices.append(
            CategoryChoice(
                category=category,
                candidates=tuple(candidates),
                titles=row.titles if row else 0,
                mentions=row.mentions if row else 0,
                titles_taken=sum(1 for t in mine if t.distinction == Distinction.TITLE),
                mentions_taken=sum(1 for t in mine if t.distinction == Distinction.MENTION),
            )
        )
    return choices


async def deliberation_page(
    edition: EditionView, juror: Juror, *, problem: str = "", status_code: int = 200
) -> Template | Redirect:
    """What a juror sees of the deliberation; the chair sees the shortlist and the tallies too."""
    if not await conflicts.has_declared_all(edition.id, juror.user_id):
        return Redirect(f"/jury/editions/{edition.id}/conflicts")
    mine = await deliberation.for_juror(edition.id, juror.user_id)
    context: dict[str, Any] = {
        "edition": edition,
        "section": "deliberation",
        "staff": False,
        "chair_nav": juror.is_chair,
        "juror": juror,
        "mine": mine,
        "problem": problem,
        "deliberating": edition.state == EditionState.DELIBERATION,
        "signed": edition.state in minutes.SIGNED_STATES,
        "labels": labels,
        "choices": [(c.value, labels.vote_choice(c)) for c in VoteChoice],
        "two_places": two_places,
    }
    if juror.is_chair:
        s = await results.for_chair(edition.id, juror.user_id)
        tallies = [t for t, _ in mine]
        context.update(
            counted=counted(tallies, s.rules, s.jurors),
            categories=category_choices(s, tallies),
            rules=s.rules,
            blocked=await conflicts.conflicted_ids(edition.id, juror.user_id),
        )
    return Template(template_name="deliberation/jury.html", context=context, status_code=status_code, headers=NO_STORE)


async def refused(
    request: AnyRequest, edition_id: int, exc: DomainError, status_code: int = HTTP_409_CONFLICT
) -> Template | Redirect:
    """The deliberation page as it now stands, with the refusal."""
    edition, juror = await member_edition(edition_id, request.user.id)
    return await deliberation_page(edition, juror, problem=message_of(exc), status_code=status_code)


def _row_id(raw: int | None) -> int | None:
    return raw if raw is not None and 1 <= raw <= MAX_ROW_ID else None


# --- controllers ----------------------------------------------------------------------------


class DeliberationAdminController(Controller):
    """The clerk's view of an edition's deliberation."""

    path = "/staff/editions/{edition_id:int}"
    guards = [requires_role(Role.CLERK, Role.ADMIN), totp_enrolled]
    include_in_schema = False

    @get("/deliberation", name="deliberation_admin")
    async def deliberation(self, edition_id: FromPath[int]) -> Template:
        edition = await edition_or_404(edition_id)
        rules = await jury.rules_of(edition.id)
        names = {j.user_id: j.display_name for j in await jury.members(edition.id)}
        tallies = await deliberation.tallies(edition.id)
        return Template(
            template_name="deliberation/staff.html",
            context={
                "edition": edition,
                "section": "deliberation",
                "counted": counted(tallies, rules, names),
                "rules": rules,
                "deliberating": edition.state == EditionState.DELIBERATION,
                "signed": edition.state in minutes.SIGNED_STATES,
                "labels": labels,
            },
            headers=NO_STORE,
        )


class DeliberationJuryController(Controller):
    """Every juror's part in the deliberation; the chair proposes, withdraws and signs."""

    path = "/jury/editions/{edition_id:int}"
    guards = [requires_role(Role.JUROR), totp_enrolled]
    include_in_schema = False

    async def _deliberated(
        self, request: AnyRequest, edition_id: int, action: Awaitable[object], done: str
    ) -> Template | Redirect:
        """A deliberation step: refused on the deliberation page, or done and back to it."""

        def back(_: object) -> Redirect:
            flash(request, i18n.gettext(done), "success")
            return Redirect(f"/jury/editions/{edition_id}/deliberation")

        return await refuse_or_redirect(action, lambda exc: refused(request, edition_id, exc), back)

    @get("/deliberation", name="juror_deliberation")
    async def deliberation(self, request: AnyRequest, edition_id: FromPath[int]) -> Template | Redirect:
        edition, juror = await member_edition(edition_id, request.user.id)
        return await deliberation_page(edition, juror)

    @post("/deliberation/proposals", name="juror_propose")
    async def propose(
        self, request: AnyRequest, edition_id: FromPath[int], settings: NamedDependency[Settings]
    ) -> Template | Redirect:
        edition, _ = await chair_edition(edition_id, request.user.id)
        form = await read_form(request)
        nomination_id = _row_id(form.integer("nomination_id"))
        raw = form.text("distinction", 20).strip()
        if nomination_id is None:
            raise NotFoundException()
        if raw not in set(Distinction):
            invalid = DomainError(N_("Choose a title or an honourable mention."))
            return await refused(request, edition.id, invalid, HTTP_400_BAD_REQUEST)
        return await self._deliberated(
            request,
            edition.id,
            deliberation.propose(
                chair_id=request.user.id,
                edition_id=edition.id,
                nomination_id=nomination_id,
                distinction=Distinction(raw),
                base_url=settings.base_url,
            ),
            N_("The proposal is put to the vote."),
        )

    @post("/deliberation/proposals/{proposal_id:int}/withdraw", name="juror_withdraw")
    async def withdraw(
        self, request: AnyRequest, edition_id: FromPath[int], proposal_id: FromPath[int]
    ) -> Template | Redirect:
        edition, _ = await chair_edition(edition_id, request.user.id)
        proposal_id = require_row_id(proposal_id)
        if proposal_id not in {t.proposal_id for t in await deliberation.tallies(edition.id)}:
            raise NotFoundException()
        return await self._deliberated(
            request,
            edition.id,
            deliberation.withdraw_proposal(chair_id=request.user.id, proposal_id=proposal_id),
            N_("The proposal is withdrawn."),
        )

    @post("/deliberation/proposals/{proposal_id:int}/vote", name="juror_vote")
    async def vote(
        self, request: AnyRequest, edition_id: FromPath[int], proposal_id: FromPath[int]
    ) -> Template | Redirect:
        edition, _ = await member_edition(edition_id, request.user.id)
        proposal_id = require_row_id(proposal_id)
        if not await conflicts.has_declared_all(edition.id, request.user.id):
            return Redirect(f"/jury/editions/{edition.id}/conflicts")
        # Only a proposal of this edition the juror may see: a conflicted one does not exist for them.
        visible = {t.proposal_id for t, _ in await deliberation.for_juror(edition.id, request.user.id)}
        if proposal_id not in visible:
            raise NotFoundException()
        raw = (await read_form(request)).text("choice", 20).strip()
        if raw not in set(VoteChoice):
            invalid = DomainError(N_("Choose for, against or abstain."))
            return await refused(request, edition.id, invalid, HTTP_400_BAD_REQUEST)
        return await self._deliberated(
            request,
            edition.id,
            deliberation.cast_vote(juror_id=request.user.id, proposal_id=proposal_id, choice=VoteChoice(raw)),
            N_("Your vote is saved."),
        )

    @post("/deliberation/votes", name="juror_votes")
    async def votes(self, request: AnyRequest, edition_id: FromPath[int]) -> Template | Redirect:
        """Every choice of the one voting form; unchanged ones are left alone."""
        edition, _ = await member_edition(edition_id, request.user.id)
        if not await conflicts.has_declared_all(edition.id, request.user.id):
            return Redirect(f"/jury/editions/{edition.id}/conflicts")
        form = await read_form(request)
        choices: dict[int, str] = {}
        for raw_id in form.values("proposal_id")[: bulk.MAX_ITEMS + 1]:
            proposal_id = _row_id(int(raw_id)) if raw_id.isascii() and raw_id.isdigit() else None
            choice = form.text(f"choice-{raw_id}", 20).strip() if proposal_id is not None else ""
            if proposal_id is not None and choice:
                choices[proposal_id] = choice
        back = Redirect(f"/jury/editions/{edition.id}/deliberation")
        try:
            outcome = await deliberation.cast_votes(juror_id=request.user.id, edition_id=edition.id, choices=choices)
        except DomainError as exc:
            flash_refusal(request, exc)
            return back
        if not outcome.done and not outcome.failed:
            flash(request, i18n.gettext(N_("No vote was changed.")), "success")
        flash_outcome(
            request,
            outcome,
            lambda n, items: i18n.ngettext(
                "Your vote is saved: %(items)s.", "Your %(num)s votes are saved: %(items)s.", n, items=items
            ),
        )
        return back

    @get("/deliberation/recommend", name="juror_recommend_confirm")
    async def recommend_confirm(self, request: AnyRequest, edition_id: FromPath[int]) -> Template:
        """What signing does: what passes and fails, what is left open; then the confirmation."""
        edition, _ = await chair_edition(edition_id, request.user.id)
        return await chair_steps.recommend_page(edition)

    @post("/deliberation/recommend", name="juror_recommend")
    async def recommend(self, request: AnyRequest, edition_id: FromPath[int]) -> Template | Redirect:
        edition, _ = await chair_edition(edition_id, request.user.id)
        acknowledged = (await read_form(request)).flag("acknowledged")
        try:
            await chair_domain.recommend(chair_id=request.user.id, edition_id=edition.id, acknowledged=acknowledged)
        except NotFound:
            raise  # no refusal: the app's handler answers 404
        except NotAcknowledged as exc:
            return await chair_steps.recommend_page(edition, message_of(exc), HTTP_400_BAD_REQUEST)
        except DomainError as exc:
            return await refused(request, edition.id, exc)
        flash(request, i18n.gettext(N_("The recommendation is signed.")), "success")
        return Redirect(f"/jury/editions/{edition.id}/deliberation")

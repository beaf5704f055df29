"""Mails that go by themselves: the reminder before the scoring deadline, and the vote mails.

**The reminder.** An edition's jury rules may give a scoring deadline and a number of days N
(``jury.JuryRules``); saving them stores when the reminder is due (``reminder_due_at``, N days
before the deadline, or None). :func:`queue_due` is run before every claim of the mail sender
(``outbox.sender_for``) and by ``ambassador mail schedule`` (for a cron): one indexed query asks
for reminders due on editions the jury is scoring. Each is claimed by a conditional update
(``reminder_due_at`` back to None, ``reminded_for`` set to the deadline) in the transaction that
queues its mails and writes its audit entry, so with several senders, in one process or many,
only one of them sends it, and never twice. Moving the deadline makes a new reminder due; a
deadline that has passed gets none.

**Votes.** When the chair proposes a nomination (``deliberation.propose``), every juror who may
vote on it (the chair and the jurors conflicted with it aside) gets one mail listing the
proposals that wait for their vote. It is held back ``VOTE_MAIL_DELAY`` so that a chair making
several proposals in a row sends one mail per juror: a later proposal rewrites the juror's
pending mail (``jury_member.vote_mail``) while no sender has claimed it, and queues a new one
otherwise.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from piccolo.query.methods.select import Select

from ambassador import vocabulary
from ambassador.db import utcnow, write_transaction
from ambassador.domain import audit, conflicts
from ambassador.domain.editions import EditionView, get_edition
from ambassador.domain.jury import Juror, members
from ambassador.domain.outbox import queue_mail, signed
from ambassador.domain.scoring_round import progress
from ambassador.domain.window_mails import when
from ambassador.enums import EditionState, MailStatus
from ambassador.errors import N_
from ambassador.i18n import translate
from ambassador.tables import Edition, JuryMember, JurySettings, OutboxMail, Proposal, Vote

# How long a vote mail waits for the chair's next proposals before it goes.
VOTE_MAIL_DELAY = dt.timedelta(minutes=5)


def _scoring_editions() -> Select[Any]:
    return Edition.select(Edition.id).where(Edition.state == EditionState.JURY_SCORING.value)


async def queue_due(now: dt.datetime | None = None, *, base_url: str) -> int:
    """Queue every reminder due at ``now``; how many mails. Idempotent, safe to run concurrently."""
    now = now or utcnow()
    due = await JurySettings.select(JurySettings.edition).where(
        (JurySettings.reminder_due_at <= now) & JurySettings.edition.is_in(_scoring_editions())
    )
    queued = 0
    for row in due:
        queued += await _remind(int(row["edition"]), now, base_url)
    return queued


async def _remind(edition_id: int, now: dt.datetime, base_url: str) -> int:
    """Claim one edition's due reminder and queue its mails, all in one transaction."""
    async with write_transaction():
        claimed = (
            await JurySettings.update({JurySettings.reminder_due_at: None})
            .where(
                (JurySettings.edition == edition_id)
                & (JurySettings.reminder_due_at <= now)
                & JurySettings.edition.is_in(_scoring_editions())
            )
            .returning(JurySettings.scoring_closes_at)
        )
        if not claimed:
            return 0  # another sender took it first
        deadline: dt.datetime | None = claimed[0]["scoring_closes_at"]
        await JurySettings.update({JurySettings.reminded_for: deadline}).where(JurySettings.edition == edition_id)
        late = deadline is None or deadline <= now
        behind = [] if late else [p for p in await progress(edition_id) if p.left > 0]
        if deadline is not None and behind:
            edition = await get_edition(edition_id)
            for p in behind:
                await _mail_reminder(p.juror, edition, deadline=deadline, left=p.left, base_url=base_url)
        await audit.record(
            "scoring.reminded_automatically",
            actor_id=None,
            object_type="edition",
            object_id=edition_id,
            data={
                "deadline": deadline.isoformat() if deadline else None,
                "jurors": [p.juror.user_id for p in behind],
                "late": late,
            },
        )
    return len(behind)


async def _mail_reminder(
    juror: Juror, edition: EditionView, *, deadline: dt.datetime, left: int, base_url: str
) -> None:
    language = juror.language
    await queue_mail(
        to=juror.email,
        subject=translate(
            language,
            N_("Reminder: scoring for %(edition)s closes on %(moment)s"),
            edition=edition.label,
            moment=when(deadline),
        ),
        body="\n\n".join(
            [
                translate(language, N_("Hello %(name)s,"), name=juror.display_name),
                translate(
                    language,
                    N_(
                        "Scoring for %(edition)s closes on %(moment)s. "
                        "Nominations you have not submitted yet: %(count)d."
                    ),
                    edition=edition.label,
                    moment=when(deadline),
                    count=left,
                ),
                f"{base_url}/jury/editions/{edition.id}",
            ]
        ),
        language=language,
    )


# --- the vote mails -------------------------------------------------------------------------


async def mail_vote_started(
    *, edition: EditionView, nomination_id: int, proposer_id: int, base_url: str, now: dt.datetime
) -> list[int]:
    """In ``propose``'s transaction: mail (or update the pending mail of) each juror who may vote.

    Returns the jurors mailed.
    """
    pairs = (await conflicts.exclusions(edition.id)).pairs
    voters = [
        j for j in await members(edition.id) if j.user_id != proposer_id and (j.user_id, nomination_id) not in pairs
    ]
    if not voters:
        return []
    proposals = list(
        await Proposal.select(
            Proposal.id,
            Proposal.nomination,
            Proposal.distinction,
            Proposal.nomination.reference,
            Proposal.nomination.nominee_name,
        )
        .where(Proposal.edition == edition.id)
        .order_by(Proposal.id)
    )
    voted = {
        (int(r["juror"]), int(r["proposal"]))
        for r in await Vote.select(Vote.juror, Vote.proposal).where(
            Vote.proposal.is_in([int(p["id"]) for p in proposals])
        )
    }
    pending = {
        int(r["user"]): r["vote_mail"]
        for r in await JuryMember.select(JuryMember.user, JuryMember.vote_mail).where(JuryMember.edition == edition.id)
    }
    for juror in voters:
        waiting = [
            p
            for p in proposals
            if (juror.user_id, int(p["nomination"])) not in pairs and (juror.user_id, int(p["id"])) not in voted
        ]
        subject, body = _vote_mail(juror, edition, waiting, base_url)
        if not await _rewrite_pending(pending.get(juror.user_id), subject, body, juror.language, now):
            mail = await queue_mail(
                to=juror.email, subject=subject, body=body, language=juror.language, not_before=now + VOTE_MAIL_DELAY
            )
            await JuryMember.update({JuryMember.vote_mail: mail.id}).where(
                (JuryMember.edition == edition.id) & (JuryMember.user == juror.user_id)
            )
    return [j.user_id for j in voters]


async def _rewrite_pending(mail_id: int | None, subject: str, body: str, language: str, now: dt.datetime) -> bool:
    """Rewrite the juror's pending vote mail, only while it is not due and no sender holds it."""
    if mail_id is None:
        return False
    rewritten = (
        await OutboxMail.update({OutboxMail.subject: subject[:300], OutboxMail.body_text: signed(body, language)})
        .where(
            (OutboxMail.id == mail_id)
            & (OutboxMail.status == MailStatus.PENDING.value)
            & (OutboxMail.attempts == 0)
            & OutboxMail.lease_until.is_null()
            & (OutboxMail.next_attempt_at > now)
        )
        .returning(OutboxMail.id)
    )
    return bool(rewritten)


def _vote_mail(juror: Juror, edition: EditionView, waiting: list[dict[str, object]], base_url: str) -> tuple[str, str]:
    language = juror.language
    lines = [
        f"- {p['nomination.reference']} {p['nomination.nominee_name']}: "
        + translate(language, vocabulary.DISTINCTIONS.get(str(p["distinction"]), str(p["distinction"])))
        for p in waiting
    ]
    subject = translate(language, N_("The jury votes: %(edition)s"), edition=edition.label)
    body = "\n\n".join(
        [
            translate(language, N_("Hello %(name)s,"), name=juror.display_name),
            translate(
                language,
                N_("The chair of the jury has put proposals to the vote. Waiting for your vote in %(edition)s:"),
                edition=edition.label,
            ),
            "\n".join(lines),
            f"{base_url}/jury/editions/{edition.id}/deliberation",
        ]
    )
    return subject, body

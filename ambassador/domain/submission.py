"""The citizen's submission: the public form saved as unconfirmed, then confirmed from the emailed link."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace

from ambassador.db import is_unique_violation, utcnow, write_transaction
from ambassador.domain import audit, drafts, held_files
from ambassador.domain.editions import EditionView, get_edition
from ambassador.domain.nomination_mails import mail_submitted
from ambassador.domain.nomination_rules import check_uploads, checked, screen
from ambassador.domain.nominations import (
    CONFIRM_HOURS,
    NominationData,
    NominationView,
    Upload,
    WindowClosed,
    get_nomination,
    insert_nomination,
    issue_token,
    opened_by_link,
)
from ambassador.domain.outbox import queue_mail
from ambassador.domain.uploads import UploadRules
from ambassador.domain.window_mails import mail_body
from ambassador.enums import NominationState, NominationTokenPurpose
from ambassador.errors import N_, InvalidInput, InvalidToken
from ambassador.i18n import translate
from ambassador.tables import HeldFile, Nomination, NominationToken
from ambassador.tokens import new_token

SUBMISSION_KEY_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


@dataclass(frozen=True)
class Submitted:
    """The outcome of a submit: the new (or, for a repeated submit, the same) nomination."""

    nomination_id: int
    reference: str
    repeated: bool


async def _existing_submission(submission_key: str) -> Submitted | None:
    row = (
        await Nomination.select(Nomination.id, Nomination.reference)
        .where(Nomination.submission_key == submission_key)
        .first()
    )
    return Submitted(row["id"], row["reference"], repeated=True) if row else None


# Whether anything is held under the key (expired or not) and whether a draft was saved from the
# form: one read instead of two, and most forms have neither.
# (tables.HeldFile and tables.NominationDraft; both columns are indexed.)
_HELD_OR_DRAFTED = (
    "SELECT EXISTS (SELECT 1 FROM held_file WHERE submission_key = {}) AS held, "
    "EXISTS (SELECT 1 FROM nomination_draft WHERE submission_key = {}) AS drafted"
)


async def _held_or_drafted(submission_key: str) -> tuple[bool, bool]:
    rows = await HeldFile.raw(_HELD_OR_DRAFTED, submission_key, submission_key)
    return bool(rows[0]["held"]), bool(rows[0]["drafted"])


async def _checked_or_held(
    edition: EditionView,
    data: NominationData,
    uploads: list[Upload],
    *,
    submission_key: str,
    now: dt.datetime,
    rules: UploadRules | None,
    any_held: bool,
) -> tuple[NominationData, list[tuple[Upload, str]], bool]:
    """The cleaned data, the new files, checked, and whether files are held from an earlier
    attempt, when the form can be saved.

    Otherwise InvalidInput with every problem, after holding each new file that passed its
    checks under the submission key (``held_files``), so the form shown again lists it as kept
    and the next attempt uses it. Files already held count toward the limit of files (read
    only when ``any_held``: some row, expired or not, is held under the key).
    """
    kept = await held_files.held(submission_key, now) if any_held else []
    data, errors = checked(edition, data)
    accepted, problem = check_uploads(uploads, existing=len(kept))
    if not errors and problem is None:
        # Scanned once, together; a refusal here (malware, no scanner, a full quota) keeps
        # none of the new files: "nothing was saved", as the message says.
        await screen(accepted, rules)
        return data, accepted, bool(kept)
    if uploads:
        result = await held_files.hold(submission_key, uploads, closes_at=edition.closes_at, rules=rules, now=now)
        # The first problem of a file not kept; else the one found for the files together
        # (six copies of one file: one is held, "at most five" still stands).
        problem = result.problem or problem
    raise InvalidInput({**errors, "attachments": problem} if problem else errors)


async def submit(
    *,
    edition: EditionView,
    data: NominationData,
    uploads: list[Upload],
    submission_key: str,
    base_url: str,
    now: dt.datetime | None = None,
    rules: UploadRules | None = None,
) -> Submitted:
    """Save a public nomination as unconfirmed and mail the confirmation link.

    ``edition`` is the one the form was read for; its window is checked again inside the
    write transaction, at the moment of saving. The same ``submission_key`` (one per rendered
    form) submitted twice gives the first nomination. The files held under the key (kept
    from an earlier attempt, ``held_files``) are attached with the new ones; when the form has
    a problem, the new files that passed their checks are held for the next attempt.
    """
    if not SUBMISSION_KEY_RE.match(submission_key):
        raise InvalidInput({"form": N_("The form is incomplete. Please reload the page and try again.")})
    # A repeated submission (a double click, a resent form) gives the first nomination; it is
    # looked for only when this one cannot be saved, which keeps the common case one read
    # shorter.
    try:
        now = now or utcnow()
        if not edition.accepts_nominations(now):
            raise WindowClosed()  # before the field checks: a late form cannot be corrected into time
        # Read before the write, which other writers wait for: most forms have neither held
        # files nor a draft, and then the transaction does no more than before them.
        any_held, drafted = await _held_or_drafted(submission_key)
        data, accepted, held = await _checked_or_held(
            edition, data, uploads, submission_key=submission_key, now=now, rules=rules, any_held=any_held
        )
        # Everything that needs no lock is made before the write, which other writers wait for.
        token = new_token()
        language = data.language
        subject = translate(language, N_("Please confirm your nomination"))
        body = mail_body(
            language,
            data.nominator_name,
            translate(
                language,
                N_("Please confirm your nomination of %(nominee)s by opening this link:"),
                nominee=data.nominee_name,
            ),
            f"{base_url}/n/confirm/{token}",
            translate(
                language,
                N_("The link works for %(hours)s hours. Without confirmation the nomination is erased."),
                hours=CONFIRM_HOURS,
            ),
        )
        async with write_transaction():
            # The files kept from earlier attempts of this form come first, as they were chosen.
            if held:
                accepted = await held_files.take(submission_key, now) + accepted
            saved = await insert_nomination(
                edition=edition,
                data=data,
                uploads=accepted,
                submission_key=submission_key,
                state=NominationState.UNCONFIRMED,
                now=now,
                public_window=True,
            )
            await issue_token(
                saved.id, NominationTokenPurpose.CONFIRM, now + dt.timedelta(hours=CONFIRM_HOURS), token=token
            )
            await queue_mail(to=data.nominator_email, subject=subject, body=body, language=language)
            await audit.record(
                "nomination.submitted",
                actor_id=None,
                object_type="nomination",
                object_id=saved.id,
                data={"reference": saved.reference, "attachments": len(accepted)},
            )
            # A draft saved from this form (web/drafts.py) is now this nomination: it goes.
            if drafted:
                await drafts.sent(submission_key, nomination_id=saved.id)
    except Exception as exc:
        repeatable = isinstance(exc, InvalidInput | WindowClosed) or is_unique_violation(exc)
        if repeatable and (earlier := await _existing_submission(submission_key)) is not None:
            return earlier
        raise
    return Submitted(saved.id, saved.reference, repeated=False)


async def confirm(*, token: str, base_url: str, now: dt.datetime | None = None) -> NominationView:
    """The nominator opened the confirmation link: the nomination counts from now on."""
    now = now or utcnow()
    async with write_transaction():
        linked = await opened_by_link(token, NominationTokenPurpose.CONFIRM, now)
        if linked.nomination.state != NominationState.UNCONFIRMED:
            raise InvalidToken()
        await NominationToken.update({NominationToken.used_at: now}).where(NominationToken.id == linked.token_id)
        await Nomination.update(
            {
                Nomination.state: NominationState.SUBMITTED.value,
                Nomination.confirmed_at: now,
                Nomination.updated_at: now,
            }
        ).where(Nomination.id == linked.nomination.id)
        confirmed = replace(linked.nomination, state=NominationState.SUBMITTED, confirmed_at=now)
        edition = await get_edition(confirmed.edition_id)
        await mail_submitted(confirmed, edition, base_url)
        await audit.record(
            "nomination.confirmed",
            actor_id=None,
            object_type="nomination",
            object_id=confirmed.id,
            data={"reference": confirmed.reference},
        )
    return await get_nomination(confirmed.id)

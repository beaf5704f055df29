"""The mails of a confirmed nomination: the nominator's receipt with the private link, the nominee's consent request."""

from __future__ import annotations

from ambassador import honour
from ambassador.domain.editions import EditionView
from ambassador.domain.nominations import NominationView, issue_token
from ambassador.domain.outbox import queue_mail
from ambassador.domain.window_mails import mail_body
from ambassador.enums import NominationTokenPurpose
from ambassador.errors import N_
from ambassador.i18n import TIMEZONE, translate


async def mail_receipt(nomination: NominationView, edition: EditionView, base_url: str) -> None:
    """The reference number and the private link to view, edit or withdraw."""
    if not nomination.nominator_email:
        return
    language = nomination.language
    token = await issue_token(nomination.id, NominationTokenPurpose.MANAGE, None)
    closes = edition.closes_at.astimezone(TIMEZONE).strftime("%Y-%m-%d %H:%M")
    await queue_mail(
        to=nomination.nominator_email,
        subject=translate(language, N_("Your nomination %(reference)s is registered"), reference=nomination.reference),
        body=mail_body(
            language,
            nomination.nominator_name,
            translate(
                language,
                N_("Thank you. Your nomination of %(nominee)s is registered under the number %(reference)s."),
                nominee=nomination.nominee_name,
                reference=nomination.reference,
            ),
            translate(
                language,
                N_("You can view, change or withdraw it until %(closes)s (Warsaw time) with this private link:"),
                closes=closes,
            ),
            f"{base_url}/n/{token}",
            translate(language, N_("Do not share the link: whoever has it can change the nomination.")),
        ),
        language=language,
    )


async def mail_consent_request(nomination: NominationView, edition: EditionView, base_url: str) -> None:
    """The nominee's information notice and consent link (to the guardian for a minor)."""
    if not nomination.nominee_email:
        return
    language = nomination.language
    token = await issue_token(nomination.id, NominationTokenPurpose.CONSENT, None)
    intro = (
        N_(
            "%(nominee)s, a minor in your care, has been nominated for the title %(title)s, %(edition)s. "
            "As their guardian, please read the information notice and give or refuse consent:"
        )
        if nomination.nominee_is_minor
        else N_(
            "You have been nominated for the title %(title)s, %(edition)s. "
            "Please read the information notice and give or refuse your consent:"
        )
    )
    title = honour.active().text("name", language)
    await queue_mail(
        to=nomination.nominee_email,
        subject=translate(language, N_("A nomination for the %(title)s title"), title=title),
        body=mail_body(
            language,
            nomination.nominee_name,
            translate(
                language,
                intro,
                nominee=nomination.nominee_name,
                title=title,
                edition=edition.label,
            ),
            f"{base_url}/consent/{token}",
        ),
        language=language,
    )


async def mail_submitted(nomination: NominationView, edition: EditionView, base_url: str) -> None:
    """A nomination has become submitted (confirmed by its nominator, or entered by a clerk): both its mails."""
    await mail_receipt(nomination, edition, base_url)
    await mail_consent_request(nomination, edition, base_url)

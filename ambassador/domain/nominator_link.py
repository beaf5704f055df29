"""The nominator's private link: view, edit or withdraw the nomination while the window is open."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from typing import Any

from ambassador.db import utcnow, write_transaction
from ambassador.domain import audit
from ambassador.domain.editions import EditionView, get_edition
from ambassador.domain.nomination_rules import prepare, screen
from ambassador.domain.nominations import (
    Linked,
    NominationData,
    NominationView,
    Upload,
    WindowClosed,
    get_nomination,
    opened_by_link,
    store_uploads,
    with_attachments,
)
from ambassador.domain.uploads import UploadRules
from ambassador.enums import LANGUAGES, NominationState, NominationTokenPurpose
from ambassador.errors import N_, NotAllowed
from ambassador.tables import Attachment, Nomination
from ambassador.text import fold

# Where a nominator may still edit or withdraw (while the window is open).
NOMINATOR_EDITABLE = {NominationState.SUBMITTED, NominationState.ACCEPTED, NominationState.REJECTED}


async def for_manage_token(token: str, now: dt.datetime | None = None) -> NominationView:
    """The nominator's own nomination; only its token opens it."""
    linked = await opened_by_link(token, NominationTokenPurpose.MANAGE, now or utcnow())
    return await with_attachments(linked.nomination)


def edit_refusal(state: NominationState, edition: EditionView, now: dt.datetime) -> str | None:
    """Why the nominator cannot change or withdraw the nomination now (msgid), or None."""
    if not edition.accepts_nominations(now):
        return WindowClosed.message
    if state not in NOMINATOR_EDITABLE:
        return N_("This nomination can no longer be changed.")
    return None


async def _editable_by_nominator(token: str, now: dt.datetime) -> tuple[Linked, EditionView]:
    linked = await opened_by_link(token, NominationTokenPurpose.MANAGE, now)
    edition = await get_edition(linked.nomination.edition_id)
    refusal = edit_refusal(linked.nomination.state, edition, now)
    if refusal == WindowClosed.message:
        raise WindowClosed()
    if refusal is not None:
        raise NotAllowed(refusal)
    return linked, edition


async def update_by_nominator(
    *,
    token: str,
    data: NominationData,
    uploads: list[Upload],
    remove_attachments: list[int],
    now: dt.datetime | None = None,
    rules: UploadRules | None = None,
) -> NominationView:
    """The nominator changes their nomination while the window is open."""
    now = now or utcnow()
    linked, edition = await _editable_by_nominator(token, now)
    current = await with_attachments(linked.nomination)
    keep = [a for a in current.attachments if a.id not in remove_attachments]
    # The nominator's own identity and the category stay as confirmed.
    data = replace(
        data,
        category=current.category,
        nominator_email=current.nominator_email,
        language=data.language if data.language in LANGUAGES else current.language,
    )
    data, accepted = prepare(edition, data, uploads, existing=len(keep))
    await screen(accepted, rules)
    async with write_transaction():
        linked, edition = await _editable_by_nominator(token, now)
        stored = linked.nomination
        changed = _apply_changes(linked, data, now)
        removed = [a.id for a in current.attachments if a.id in remove_attachments]
        recheck = stored.state != NominationState.SUBMITTED and bool(len(changed) > 1 or removed or accepted)
        if recheck:
            # A formal decision was about the old text: the changed nomination is checked again.
            changed[Nomination.state] = NominationState.SUBMITTED.value
            changed[Nomination.formal_reason] = ""
        await Nomination.update(changed).where(Nomination.id == stored.id)
        if removed:
            await Attachment.delete().where((Attachment.nomination == stored.id) & Attachment.id.is_in(removed))
        await store_uploads(stored.id, accepted, now)
        await audit.record(
            "nomination.edited",
            actor_id=None,
            object_type="nomination",
            object_id=stored.id,
            data={
                "fields": sorted(
                    c._meta.name for c in changed if c._meta.name not in ("updated_at", "state", "formal_reason")
                ),
                "attachments_added": len(accepted),
                "attachments_removed": len(removed),
                "back_to_formal_check": recheck,
            },
        )
    return await get_nomination(stored.id)


def _apply_changes(linked: Linked, data: NominationData, now: dt.datetime) -> dict[Any, Any]:
    """The columns whose values differ from the stored nomination."""
    values: dict[str, Any] = {
        "nominee_name": data.nominee_name,
        "nominee_key": fold(data.nominee_name)[:200],
        "nominee_is_minor": data.nominee_is_minor,
        "nominee_email": data.nominee_email,
        "nominee_phone": data.nominee_phone,
        "organisation_kind": data.organisation_kind,
        "organisation_website": data.organisation_website,
        "registry_number": data.registry_number,
        "links": data.links,
        "nominator_name": data.nominator_name,
        "nominator_phone": data.nominator_phone,
        "nominator_organisation": data.nominator_organisation,
        "nominator_relation": data.nominator_relation,
        "language": data.language,
    }
    stored = linked.nomination
    current = {k: linked.nominee_key if k == "nominee_key" else getattr(stored, k) for k in values}
    changed: dict[Any, Any] = {getattr(Nomination, k): v for k, v in values.items() if current[k] != v}
    descriptions = {k: v for k, v in data.descriptions.items() if v}
    if stored.descriptions != descriptions:
        changed[Nomination.descriptions] = json.dumps({str(k): v for k, v in descriptions.items()}, ensure_ascii=False)
    changed[Nomination.updated_at] = now
    return changed


async def withdraw_by_nominator(*, token: str, now: dt.datetime | None = None) -> NominationView:
    """The nominator withdraws; allowed until the window closes."""
    now = now or utcnow()
    async with write_transaction():
        stored = (await _editable_by_nominator(token, now))[0].nomination
        await Nomination.update({Nomination.state: NominationState.WITHDRAWN.value, Nomination.updated_at: now}).where(
            Nomination.id == stored.id
        )
        await audit.record(
            "nomination.withdrawn",
            actor_id=None,
            object_type="nomination",
            object_id=stored.id,
            data={"from": stored.state.value},
        )
    return await get_nomination(stored.id)

"""A laureate's picture: a person's portrait or an organisation's logo, as the clerk manages it.

The clerk uploads it on the laureate's page with the laureate's consent (who recorded it and
when is kept), a description (alt text) in Polish, English and Ukrainian, the photographer's
credit and the licence. The upload passes the attachments' checks (type by content, size and
pixel limits: ``ambassador.files``; the antivirus scan: ``ambassador.domain.uploads``), then is
decoded, turned upright by its EXIF orientation and re-encoded as WebP at a few widths; the
uploaded bytes and their metadata (EXIF, GPS, XMP, colour profiles) are never stored. The
public sees a picture only when the laureate's edition is public (the archive's rule) and the
copies' addresses carry the picture's version, so they can be cached for a year: a new picture
has new addresses. Every change is one transaction with its audit entry.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ambassador import files
from ambassador.db import utcnow, write_transaction
from ambassador.domain import audit
from ambassador.domain import uploads as upload_rules
from ambassador.domain.nominations import Upload
from ambassador.domain.portrait_images import UNREADABLE, Copy, check_file, resize
from ambassador.domain.uploads import UploadRules
from ambassador.enums import EditionState
from ambassador.errors import N_, InvalidInput, NotAllowed, NotFound, too_long
from ambassador.tables import Edition, Laureate, Portrait, PortraitImage
from ambassador.text import clean_line, clean_text

LANGUAGES = ("pl", "en", "uk")
KINDS = ("portrait", "logo")
MAX_ALT = 300
MAX_CREDIT = 300
MAX_LICENCE = 300
WEBP = "image/webp"

CHOOSE = N_("Choose a picture: a JPEG or PNG file.")
CONSENT = N_("Tick the box to record that the laureate agreed to the publication of this picture.")
ALT_REQUIRED = N_("Describe the picture for people who cannot see it.")
LICENCE_REQUIRED = N_("Give the licence or permission under which the picture is published.")
KIND_REQUIRED = N_("Choose whether this is a portrait or a logo.")
WITHDRAWN = N_("A withdrawn entry gets no new picture.")


@dataclass(frozen=True)
class PictureData:
    """What the clerk's form says of a picture (the file comes separately)."""

    kind: str = "portrait"
    alt_pl: str = ""
    alt_en: str = ""
    alt_uk: str = ""
    credit: str = ""
    licence: str = ""
    consent: bool = False


@dataclass(frozen=True)
class PortraitView:
    """A laureate's current picture as pages show it (no bytes)."""

    laureate_id: int
    slug: str
    kind: str
    version: int
    alt_pl: str
    alt_en: str
    alt_uk: str
    credit: str
    licence: str
    consent_recorded_at: dt.datetime | None
    consent_recorded_by: str
    widths: tuple[int, ...]
    width: int
    height: int

    def alt(self, language: str) -> str:
        """The description in ``language``, else in Polish, English, Ukrainian."""
        for code in (language, *LANGUAGES):
            text = str(getattr(self, f"alt_{code}", "") or "")
            if text:
                return text
        return ""

    def src(self, base: str, width: int | None = None) -> str:
        """The address of one copy (the smallest that is at least ``width``, else the largest)."""
        chosen = next((w for w in self.widths if width is not None and w >= width), self.widths[-1])
        return f"{base}/{self.version}/{chosen}.webp"

    def srcset(self, base: str) -> str:
        return ", ".join(f"{base}/{self.version}/{w}.webp {w}w" for w in self.widths)


@dataclass(frozen=True)
class Stored:
    """One copy's bytes as served."""

    content: bytes
    content_type: str
    sha256: str


# --- reading -----------------------------------------------------------------------------------


def _public_editions(now: dt.datetime) -> Any:
    return Edition.select(Edition.id).where(
        (Edition.state == EditionState.PUBLISHED.value)
        & Edition.published_at.is_not_null()
        & (Edition.published_at <= now)
    )


_COLUMNS = (
    Portrait.id,
    Portrait.laureate,
    Portrait.laureate.slug,
    Portrait.kind,
    Portrait.version,
    Portrait.alt_pl,
    Portrait.alt_en,
    Portrait.alt_uk,
    Portrait.credit,
    Portrait.licence,
    Portrait.consent_recorded_at,
    Portrait.consent_recorded_by.display_name,
    Portrait.width,
    Portrait.height,
)


async def _views(where: Any) -> list[PortraitView]:
    rows = await Portrait.select(*_COLUMNS).where(where & (Portrait.has_image == True))  # noqa: E712 - SQL
    if not rows:
        return []
    copies = await PortraitImage.select(PortraitImage.portrait, PortraitImage.version, PortraitImage.width).where(
        PortraitImage.portrait.is_in([r["id"] for r in rows])
    )
    widths: dict[tuple[int, int], list[int]] = {}
    for copy in copies:
        widths.setdefault((copy["portrait"], copy["version"]), []).append(copy["width"])
    return [
        PortraitView(
            laureate_id=r["laureate"],
            slug=r["laureate.slug"],
            kind=r["kind"],
            version=r["version"],
            alt_pl=r["alt_pl"],
            alt_en=r["alt_en"],
            alt_uk=r["alt_uk"],
            credit=r["credit"],
            licence=r["licence"],
            consent_recorded_at=r["consent_recorded_at"],
            consent_recorded_by=r["consent_recorded_by.display_name"] or "",
            widths=tuple(sorted(widths[(r["id"], r["version"])])),
            width=r["width"],
            height=r["height"],
        )
        for r in rows
        if (r["id"], r["version"]) in widths
    ]


async def for_laureate(laureate_id: int) -> PortraitView | None:
    """The laureate's current picture for the clerk (whatever the edition's state)."""
    found = await _views(Portrait.laureate == laureate_id)
    return found[0] if found else None


async def public_for(slugs: Iterable[str], now: dt.datetime | None = None) -> dict[str, PortraitView]:
    """The pictures of these laureates that the public may see, by slug (one query each table)."""
    wanted = sorted(set(slugs))
    if not wanted:
        return {}
    where = Portrait.laureate.slug.is_in(wanted) & Portrait.laureate.edition.is_in(_public_editions(now or utcnow()))
    return {view.slug: view for view in await _views(where)}


async def _copy(where: Any, version: int, width: int) -> Stored | None:
    row = (
        await PortraitImage.select(PortraitImage.content, PortraitImage.content_type, PortraitImage.sha256)
        .where(
            where
            & (PortraitImage.portrait.has_image == True)  # noqa: E712 - SQL
            & (PortraitImage.version == version)
            & (PortraitImage.width == width)
        )
        .first()
    )
    return Stored(bytes(row["content"]), row["content_type"], row["sha256"]) if row else None


async def public_copy(slug: str, version: int, width: int, now: dt.datetime | None = None) -> Stored | None:
    """One copy of a public laureate's current picture; None before publication or when gone."""
    public = _public_editions(now or utcnow())
    laureate: Any = PortraitImage.portrait.laureate
    return await _copy(
        (laureate.slug == slug) & laureate.edition.is_in(public),
        version,
        width,
    )


async def staff_copy(laureate_id: int, version: int, width: int) -> Stored | None:
    """One copy for the clerk's page (any state)."""
    return await _copy(PortraitImage.portrait.laureate == laureate_id, version, width)


async def latest_change(edition_ids: list[int]) -> tuple[dt.datetime | None, int]:
    """The newest picture change of these editions' laureates and how many pictures they show.

    The archive's stamp takes both: a new, replaced, re-described or removed picture changes
    its public pages.
    """
    rows = await Portrait.select(Portrait.changed_at, Portrait.has_image).where(
        Portrait.laureate.edition.is_in(edition_ids or [0])
    )
    latest = max((r["changed_at"] for r in rows), default=None)
    return latest, sum(1 for r in rows if r["has_image"])


# --- changing ----------------------------------------------------------------------------------


def _cleaned(data: PictureData) -> PictureData:
    return PictureData(
        kind=data.kind if data.kind in KINDS else "",
        alt_pl=clean_text(data.alt_pl),
        alt_en=clean_text(data.alt_en),
        alt_uk=clean_text(data.alt_uk),
        credit=clean_line(data.credit),
        licence=clean_line(data.licence),
        consent=data.consent,
    )


def _errors(data: PictureData) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not data.kind:
        errors["kind"] = KIND_REQUIRED
    for code in LANGUAGES:
        text = getattr(data, f"alt_{code}")
        if not text:
            errors[f"alt_{code}"] = ALT_REQUIRED
        elif len(text) > MAX_ALT:
            errors[f"alt_{code}"] = too_long(MAX_ALT)
    if len(data.credit) > MAX_CREDIT:
        errors["credit"] = too_long(MAX_CREDIT)
    if not data.licence:
        errors["licence"] = LICENCE_REQUIRED
    elif len(data.licence) > MAX_LICENCE:
        errors["licence"] = too_long(MAX_LICENCE)
    return errors


def _texts(data: PictureData) -> dict[str, str]:
    return {
        "kind": data.kind,
        **{f"alt_{code}": getattr(data, f"alt_{code}") for code in LANGUAGES},
        "credit": data.credit,
        "licence": data.licence,
    }


async def _laureate(laureate_id: int) -> dict[str, Any]:
    row = (
        await Laureate.select(Laureate.id, Laureate.withdrawn_at, Laureate.edition.state, Laureate.edition.published_at)
        .where(Laureate.id == laureate_id)
        .first()
    )
    if row is None:
        raise NotFound()
    return row


async def save(
    *,
    actor_id: int,
    laureate_id: int,
    data: PictureData,
    upload: Upload | None = None,
    rules: UploadRules | None = None,
    now: dt.datetime | None = None,
) -> PortraitView:
    """Set, replace or re-describe the laureate's picture.

    With ``upload``: a new picture (consent required), checked, scanned and resized; the old
    copies are deleted. Without: the texts of the current picture change (no picture yet: the
    file is required). Refused with InvalidInput (every field problem at once) or NotAllowed
    (a withdrawn entry gets no new picture); a refusal changes nothing.
    """
    now = now or utcnow()
    data = _cleaned(data)
    record = await _laureate(laureate_id)
    current = (
        await Portrait.select(Portrait.id, Portrait.has_image, Portrait.version)
        .where(Portrait.laureate == laureate_id)
        .first()
    )
    has_image = bool(current and current["has_image"])
    errors = _errors(data)
    if upload is None and not has_image:
        errors["picture"] = CHOOSE
    elif upload is not None:
        if problem := check_file(upload):
            errors["picture"] = problem
        if not data.consent:
            errors["consent"] = CONSENT
    if errors:
        raise InvalidInput(errors)
    copies: list[Copy] = []
    if upload is not None:
        if record["withdrawn_at"] is not None:
            raise NotAllowed(WITHDRAWN)
        problem = await upload_rules.scan(
            [(files.safe_filename(upload.filename, files.sniff(upload.data) or files.JPEG), upload.data)],
            rules or upload_rules.DEVELOPMENT,
        )
        if problem:
            raise InvalidInput({"picture": problem})
        try:
            copies = await asyncio.to_thread(resize, upload.data)
        except Exception as exc:
            raise InvalidInput({"picture": UNREADABLE}) from exc
    async with write_transaction():
        # Checked again in the transaction: the entry may have been withdrawn, or the picture
        # removed by a colleague, while this one was being scanned and resized.
        record = await _laureate(laureate_id)
        if copies and record["withdrawn_at"] is not None:
            raise NotAllowed(WITHDRAWN)
        return await _write(actor_id, laureate_id, data, copies, now)


async def _write(
    actor_id: int, laureate_id: int, data: PictureData, copies: list[Copy], now: dt.datetime
) -> PortraitView:
    row = await Portrait.select().where(Portrait.laureate == laureate_id).first()
    texts = _texts(data)
    changes: dict[Any, Any] = {getattr(Portrait, key): value for key, value in texts.items()}
    changes.update({Portrait.changed_by: actor_id, Portrait.changed_at: now})
    if row is None:
        portrait = Portrait(laureate=laureate_id, changed_by=actor_id, changed_at=now)
        await portrait.save()
        row = {"id": portrait.id, "version": 0, "has_image": False, **dict.fromkeys(texts, "")}
    old = {key: row[key] for key in texts}
    if not copies and not row["has_image"]:
        raise InvalidInput({"picture": CHOOSE})
    if copies:
        version = row["version"] + 1
        largest = copies[-1]
        changes.update(
            {
                Portrait.has_image: True,
                Portrait.version: version,
                Portrait.width: largest.width,
                Portrait.height: largest.height,
                Portrait.consent_recorded_by: actor_id,
                Portrait.consent_recorded_at: now,
            }
        )
        await PortraitImage.delete().where(PortraitImage.portrait == row["id"])
        for copy in copies:
            await PortraitImage(
                portrait=row["id"],
                version=version,
                width=copy.width,
                height=copy.height,
                content_type=WEBP,
                size=len(copy.content),
                sha256=hashlib.sha256(copy.content).hexdigest(),
                content=copy.content,
            ).save()
        action = "portrait.replaced" if row["has_image"] else "portrait.added"
        extra: dict[str, Any] = {
            "version": version,
            "widths": [c.width for c in copies],
            "bytes": sum(len(c.content) for c in copies),
            "consent_recorded_at": now.isoformat(),
        }
    elif old == texts:
        view = await for_laureate(laureate_id)
        assert view is not None
        return view
    else:
        action, extra = "portrait.described", {}
    await Portrait.update(changes).where(Portrait.id == row["id"])
    changed = {key: {"old": old[key], "new": texts[key]} for key in texts if old[key] != texts[key]}
    await audit.record(
        action, actor_id=actor_id, object_type="laureate", object_id=laureate_id, data={**changed, **extra}
    )
    view = await for_laureate(laureate_id)
    assert view is not None
    return view


async def remove(*, actor_id: int, laureate_id: int, now: dt.datetime | None = None) -> None:
    """Remove the laureate's picture: its copies and texts are deleted, the removal audited.

    The row stays (emptied) so the archive's stamp sees the change; the next picture gets a
    new version, so no address of the removed one comes back.
    """
    now = now or utcnow()
    async with write_transaction():
        await _laureate(laureate_id)
        row = (
            await Portrait.select(Portrait.id, Portrait.has_image, Portrait.version, Portrait.kind)
            .where(Portrait.laureate == laureate_id)
            .first()
        )
        if row is None or not row["has_image"]:
            raise NotAllowed(N_("There is no picture to remove."))
        await PortraitImage.delete().where(PortraitImage.portrait == row["id"])
        await Portrait.update(
            {
                Portrait.has_image: False,
                Portrait.alt_pl: "",
                Portrait.alt_en: "",
                Portrait.alt_uk: "",
                Portrait.credit: "",
                Portrait.licence: "",
                Portrait.consent_recorded_by: None,
                Portrait.consent_recorded_at: None,
                Portrait.width: 0,
                Portrait.height: 0,
                Portrait.changed_by: actor_id,
                Portrait.changed_at: now,
            }
        ).where(Portrait.id == row["id"])
        await audit.record(
            "portrait.removed",
            actor_id=actor_id,
            object_type="laureate",
            object_id=laureate_id,
            data={"version": row["version"], "kind": row["kind"]},
        )

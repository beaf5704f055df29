"""Laureates' pictures in the domain: resized copies without metadata, refusals that change
nothing, the laureate's consent, the audit trail, the archive's embargo and stamp."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from PIL import Image

from ambassador import i18n
from ambassador.antivirus import Clamd
from ambassador.db import utcnow
from ambassador.domain import archive, portrait_images, portraits, uploads
from ambassador.domain.nominations import Upload
from ambassador.domain.uploads import UploadRules
from ambassador.errors import InvalidInput, Message, NotAllowed
from ambassador.tables import AuditEntry, Laureate, Portrait, PortraitImage
from tests.clamav import EICAR
from tests.factories import PDF
from tests.portrait_factories import CAMERA, clerk, described, jpeg, laureate, png_logo


async def audit_actions() -> list[tuple[str, int | None, str]]:
    rows = (
        await AuditEntry.select(AuditEntry.action, AuditEntry.actor, AuditEntry.object_id)
        .where(AuditEntry.action.like("portrait.%"))
        .order_by(AuditEntry.id)
    )
    return [(r["action"], r["actor"], r["object_id"]) for r in rows]


async def copies() -> list[tuple[int, int, int]]:
    rows = await PortraitImage.select(PortraitImage.version, PortraitImage.width, PortraitImage.height).order_by(
        PortraitImage.width
    )
    return [(r["version"], r["width"], r["height"]) for r in rows]


def decoded(content: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(content))
    image.load()
    return image


async def test_a_photo_is_resized_to_the_widths_as_webp_without_its_metadata() -> None:
    actor = await clerk()
    laureate_id, _ = await laureate()
    before = utcnow()

    view = await portraits.save(
        actor_id=actor.id, laureate_id=laureate_id, data=described(), upload=Upload("olena.jpg", jpeg(1600, 1200))
    )

    assert (view.widths, view.width, view.height, view.version) == ((320, 640, 960), 960, 720, 1)
    assert await copies() == [(1, 320, 240), (1, 640, 480), (1, 960, 720)]
    for row in await PortraitImage.select(PortraitImage.content, PortraitImage.content_type):
        content = bytes(row["content"])
        image = decoded(content)
        assert (image.format, row["content_type"]) == ("WEBP", "image/webp")
        assert dict(image.getexif()) == {}
        assert "exif" not in image.info and "icc_profile" not in image.info and "xmp" not in image.info
        assert CAMERA.encode() not in content and b"taken at home" not in content
    assert view.consent_recorded_by == "Celina Clerk"
    assert view.consent_recorded_at is not None and view.consent_recorded_at >= before
    assert await audit_actions() == [("portrait.added", actor.id, str(laureate_id))]


async def test_the_photo_is_turned_upright_by_its_exif_orientation() -> None:
    actor = await clerk()
    laureate_id, _ = await laureate()
    # Orientation 6: the camera was held upright; the stored pixels lie on their side.
    await portraits.save(
        actor_id=actor.id,
        laureate_id=laureate_id,
        data=described(),
        upload=Upload("olena.jpg", jpeg(1600, 1200, orientation=6)),
    )
    assert await copies() == [(1, 320, 427), (1, 640, 853), (1, 960, 1280)]


async def test_a_small_logo_is_never_enlarged_and_keeps_its_transparency() -> None:
    actor = await clerk()
    laureate_id, _ = await laureate()
    view = await portraits.save(
        actor_id=actor.id, laureate_id=laureate_id, data=described(kind="logo"), upload=Upload("logo.png", png_logo())
    )
    assert (view.kind, view.widths) == ("logo", (320, 500))
    content = await PortraitImage.select(PortraitImage.content).where(PortraitImage.width == 500).first()
    assert content is not None
    image = decoded(bytes(content["content"]))
    assert image.mode == "RGBA"
    assert image.getpixel((0, 0))[3] == 0  # type: ignore[index]


def test_a_16_bit_greyscale_scan_keeps_its_greys() -> None:
    image = Image.new("I;16", (400, 300), 30000)  # 30000 of 65535: a mid grey
    out = io.BytesIO()
    image.save(out, "PNG")
    made = portrait_images.resize(out.getvalue())
    assert [(c.width, c.height) for c in made] == [(320, 240), (400, 300)]
    # 30000 / 256 = 117, give or take WebP's rounding (white would be 255: clipped, not scaled).
    grey = decoded(made[0].content).getpixel((10, 10))
    assert isinstance(grey, tuple)
    assert [abs(level - 117) <= 2 for level in grey] == [True, True, True]


def truncated_jpeg() -> bytes:
    whole = jpeg(800, 600)
    return whole[: len(whole) // 3]


@pytest.mark.parametrize(
    ("name", "data", "problem"),
    [
        ("scan.pdf", PDF, portrait_images.WRONG_TYPE),
        ("photo.jpg", b"GIF89a" + b"\x00" * 500, portrait_images.WRONG_TYPE),
        ("tiny.png", None, Message(portrait_images.TOO_SMALL, limit=portrait_images.MIN_SIDE)),
        (
            "huge.jpg",
            b"\xff\xd8\xff\xe0" + b"\x00" * portrait_images.MAX_BYTES,
            Message(portrait_images.TOO_BIG, limit=10),
        ),
        ("broken.jpg", None, portrait_images.UNREADABLE),
    ],
)
async def test_a_bad_file_is_refused_with_a_translated_message_and_nothing_changes(
    name: str, data: bytes | None, problem: str
) -> None:
    actor = await clerk()
    laureate_id, _ = await laureate()
    if name == "tiny.png":
        data = png_logo(80, 60)
    elif name == "broken.jpg":
        data = truncated_jpeg()
    assert data is not None

    with pytest.raises(InvalidInput) as refused:
        await portraits.save(actor_id=actor.id, laureate_id=laureate_id, data=described(), upload=Upload(name, data))

    found = refused.value.errors["picture"]
    assert (str(found), getattr(found, "params", {})) == (str(problem), getattr(problem, "params", {}))
    assert i18n.translate("pl", str(problem)) != str(problem)
    assert i18n.translate("uk", str(problem)) != str(problem)
    assert await Portrait.count() == 0
    assert await PortraitImage.count() == 0
    assert await audit_actions() == []


async def test_the_picture_is_scanned_for_malware_before_anything_is_stored(clamd: str) -> None:
    actor = await clerk()
    laureate_id, _ = await laureate()
    infected = jpeg() + EICAR  # a valid photo carrying the test signature after its end
    with pytest.raises(InvalidInput) as refused:
        await portraits.save(
            actor_id=actor.id,
            laureate_id=laureate_id,
            data=described(),
            upload=Upload("olena.jpg", infected),
            rules=UploadRules(scanner=Clamd(clamd)),
        )
    assert refused.value.errors == {"picture": uploads.MALWARE}
    assert refused.value.errors["picture"].params == {"name": "olena.jpg"}  # type: ignore[attr-defined]
    assert (await Portrait.count(), await PortraitImage.count(), await audit_actions()) == (0, 0, [])


async def test_consent_descriptions_and_licence_are_required_with_a_new_picture() -> None:
    actor = await clerk()
    laureate_id, _ = await laureate()
    with pytest.raises(InvalidInput) as refused:
        await portraits.save(
            actor_id=actor.id,
            laureate_id=laureate_id,
            data=described(consent=False, alt_uk="  ", licence="", kind="selfie"),
            upload=Upload("olena.jpg", jpeg()),
        )
    assert refused.value.errors == {
        "consent": portraits.CONSENT,
        "alt_uk": portraits.ALT_REQUIRED,
        "licence": portraits.LICENCE_REQUIRED,
        "kind": portraits.KIND_REQUIRED,
    }
    with pytest.raises(InvalidInput) as without_file:
        await portraits.save(actor_id=actor.id, laureate_id=laureate_id, data=described())
    assert without_file.value.errors == {"picture": portraits.CHOOSE}
    assert (await Portrait.count(), await PortraitImage.count(), await audit_actions()) == (0, 0, [])


async def test_replacing_makes_a_new_version_and_deletes_the_old_copies() -> None:
    actor = await clerk()
    laureate_id, _ = await laureate()
    await portraits.save(actor_id=actor.id, laureate_id=laureate_id, data=described(), upload=Upload("a.jpg", jpeg()))
    other = await clerk("other.clerk@example.org", "Olek Other")

    # A replacement needs the consent again.
    with pytest.raises(InvalidInput) as refused:
        await portraits.save(
            actor_id=other.id,
            laureate_id=laureate_id,
            data=described(consent=False),
            upload=Upload("b.png", png_logo()),
        )
    assert refused.value.errors == {"consent": portraits.CONSENT}
    assert [version for version, _, _ in await copies()] == [1, 1, 1]

    view = await portraits.save(
        actor_id=other.id, laureate_id=laureate_id, data=described(kind="logo"), upload=Upload("b.png", png_logo())
    )
    assert (view.version, view.widths, view.kind) == (2, (320, 500), "logo")
    assert await copies() == [(2, 320, 128), (2, 500, 200)]
    assert view.consent_recorded_by == "Olek Other"
    assert [a for a, _, _ in await audit_actions()] == ["portrait.added", "portrait.replaced"]


async def test_the_texts_change_without_a_new_file_and_the_audit_says_what_changed() -> None:
    actor = await clerk()
    laureate_id, _ = await laureate()
    await portraits.save(actor_id=actor.id, laureate_id=laureate_id, data=described(), upload=Upload("a.jpg", jpeg()))

    view = await portraits.save(
        actor_id=actor.id, laureate_id=laureate_id, data=described(consent=False, credit="Anna Nowak")
    )
    # Saving the same texts again is no change and writes nothing.
    await portraits.save(actor_id=actor.id, laureate_id=laureate_id, data=described(credit="Anna Nowak"))

    assert (view.credit, view.version) == ("Anna Nowak", 1)
    entries = (
        await AuditEntry.select(AuditEntry.action, AuditEntry.data)
        .where(AuditEntry.action.like("portrait.%"))
        .order_by(AuditEntry.id)
    )
    assert [e["action"] for e in entries] == ["portrait.added", "portrait.described"]
    data = entries[1]["data"]
    assert (json.loads(data) if isinstance(data, str) else data) == {
        "credit": {"old": "Jan Kowalski", "new": "Anna Nowak"}
    }


async def test_removing_deletes_the_copies_and_texts_and_is_audited() -> None:
    actor = await clerk()
    laureate_id, _ = await laureate()
    await portraits.save(actor_id=actor.id, laureate_id=laureate_id, data=described(), upload=Upload("a.jpg", jpeg()))

    await portraits.remove(actor_id=actor.id, laureate_id=laureate_id)

    assert await PortraitImage.count() == 0
    assert await portraits.for_laureate(laureate_id) is None
    row = await Portrait.select(Portrait.has_image, Portrait.alt_pl, Portrait.credit, Portrait.licence).first()
    assert row == {"has_image": False, "alt_pl": "", "credit": "", "licence": ""}
    assert [a for a, _, _ in await audit_actions()] == ["portrait.added", "portrait.removed"]
    with pytest.raises(NotAllowed):
        await portraits.remove(actor_id=actor.id, laureate_id=laureate_id)
    # A new picture after a removal gets a new version: no old address shows it.
    view = await portraits.save(
        actor_id=actor.id, laureate_id=laureate_id, data=described(), upload=Upload("a.jpg", jpeg())
    )
    assert view.version == 2


async def test_a_withdrawn_entry_gets_no_new_picture() -> None:
    actor = await clerk()
    laureate_id, _ = await laureate()
    await Laureate.update({Laureate.withdrawn_at: utcnow(), Laureate.withdrawn_reason: "x"}).where(
        Laureate.id == laureate_id
    )
    with pytest.raises(NotAllowed):
        await portraits.save(
            actor_id=actor.id, laureate_id=laureate_id, data=described(), upload=Upload("a.jpg", jpeg())
        )
    assert (await Portrait.count(), await PortraitImage.count()) == (0, 0)


async def test_nothing_is_public_before_the_publication_moment() -> None:
    actor = await clerk()
    moment = utcnow() + dt.timedelta(days=2)
    laureate_id, slug = await laureate(published_at=moment)
    view = await portraits.save(
        actor_id=actor.id, laureate_id=laureate_id, data=described(), upload=Upload("a.jpg", jpeg())
    )

    assert await portraits.public_for([slug]) == {}
    assert await portraits.public_copy(slug, view.version, 640) is None
    staff = await portraits.staff_copy(laureate_id, view.version, 640)
    assert staff is not None and staff.content_type == "image/webp"

    later = moment + dt.timedelta(minutes=1)
    assert list(await portraits.public_for([slug], now=later)) == [slug]
    public = await portraits.public_copy(slug, view.version, 640, now=later)
    assert public is not None and public.content == staff.content
    assert await portraits.public_copy(slug, view.version + 1, 640, now=later) is None
    assert await portraits.public_copy(slug, view.version, 123, now=later) is None


async def test_the_archive_stamp_changes_with_every_picture_change() -> None:
    actor = await clerk()
    laureate_id, _ = await laureate()
    tokens = [(await archive.stamp()).token]
    await portraits.save(actor_id=actor.id, laureate_id=laureate_id, data=described(), upload=Upload("a.jpg", jpeg()))
    tokens.append((await archive.stamp()).token)
    await portraits.save(actor_id=actor.id, laureate_id=laureate_id, data=described(credit="Anna Nowak"))
    tokens.append((await archive.stamp()).token)
    await portraits.remove(actor_id=actor.id, laureate_id=laureate_id)
    tokens.append((await archive.stamp()).token)
    assert len(set(tokens)) == 4

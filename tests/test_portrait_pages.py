"""Laureates' pictures over HTTP: the clerk's upload, replacement and removal; the public
copies (srcset, caching) and the embargo (nothing served before publication)."""

from __future__ import annotations

import datetime as dt
import re

from httpx import Response

from ambassador.db import utcnow
from ambassador.tables import AuditEntry, Edition, Laureate, Portrait, PortraitImage
from tests.clerk_factories import clerk_logged_in, english
from tests.conftest import Client
from tests.helpers import csrf_token, post_form
from tests.portrait_factories import jpeg, laureate, png_logo

FORM = {
    "kind": "portrait",
    "alt_pl": "Olena Kowalenko uśmiecha się przed biblioteką.",
    "alt_en": "Olena Kovalenko smiles in front of a library.",
    "alt_uk": "Олена Коваленко усміхається перед бібліотекою.",
    "credit": "Jan Kowalski",
    "licence": "CC BY 4.0",
    "consent": "1",
}


async def upload(
    client: Client, laureate_id: int, data: bytes | None, name: str = "olena.jpg", **changes: str
) -> Response:
    form = {**FORM, **changes, "_csrf_token": await csrf_token(client)}
    form = {key: value for key, value in form.items() if value != "-"}
    files = [("picture", (name, data, "image/jpeg"))] if data is not None else None
    return await client.post(f"/staff/laureates/{laureate_id}/portrait", data=form, files=files)


def sources(html: str, prefix: str) -> list[str]:
    """The srcset entries of the <img> elements whose copies live under ``prefix``."""
    found = re.findall(r'srcset="([^"]*)"', html)
    return [entry for srcset in found for entry in srcset.split(", ") if entry.startswith(prefix)]


async def test_the_clerk_uploads_a_portrait_and_the_public_sees_it_with_srcset(client: Client) -> None:
    english(client)
    await clerk_logged_in(client)
    laureate_id, slug = await laureate()
    # The archive pages are cached: the upload must show on them at once all the same.
    assert "/portraits/" not in (await client.get("/en/laureates")).text

    saved = await upload(client, laureate_id, jpeg())

    assert (saved.status_code, saved.headers["location"]) == (303, f"/staff/laureates/{laureate_id}#picture")
    page = (await client.get(f"/staff/laureates/{laureate_id}")).text
    base = f"/staff/laureates/{laureate_id}/portrait/1"
    assert sources(page, base) == [f"{base}/320.webp 320w", f"{base}/640.webp 640w", f"{base}/960.webp 960w"]
    assert "Recorded by Celina Clerk on" in page
    staff_copy = await client.get(f"{base}/640.webp")
    assert (staff_copy.status_code, staff_copy.headers["content-type"]) == (200, "image/webp")
    assert staff_copy.headers["cache-control"] == "no-store"

    public = f"/portraits/{slug}/1"
    for url in ("/en/laureates", f"/en/laureates/{slug}", "/en/editions/2024"):
        html = (await client.get(url)).text
        assert sources(html, public) == [
            f"{public}/320.webp 320w",
            f"{public}/640.webp 640w",
            f"{public}/960.webp 960w",
        ]
        assert 'alt="Olena Kovalenko smiles in front of a library."' in html
        assert 'sizes="(max-width: 40rem) calc(100vw - 2rem), 20rem"' in html
    laureate_page = (await client.get(f"/en/laureates/{slug}")).text
    assert "Photo: Jan Kowalski · Licence: CC BY 4.0" in laureate_page
    assert f'"image":"http://testserver.local{public}/960.webp"' in laureate_page  # schema.org
    polish = (await client.get(f"/pl/laureates/{slug}")).text
    assert 'alt="Olena Kowalenko uśmiecha się przed biblioteką."' in polish

    client.cookies.clear()
    served = await client.get(f"{public}/640.webp")
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/webp"
    assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert served.content == staff_copy.content
    head = await client.head(f"{public}/640.webp")
    assert (head.status_code, head.headers["content-type"], head.content) == (200, "image/webp", b"")
    again = await client.get(f"{public}/640.webp", headers={"if-none-match": served.headers["etag"]})
    assert (again.status_code, again.content) == (304, b"")
    for missing in (
        f"{public}/641.webp",
        f"{public}/640.png",
        f"/portraits/{slug}/2/640.webp",
        "/portraits/x/1/640.webp",
    ):
        assert (await client.get(missing)).status_code == 404
    # The clerk's copies need a login.
    assert (await client.get(f"{base}/640.webp")).status_code in (302, 401, 403)


async def test_a_bad_file_shows_a_translated_message_and_nothing_changes(client: Client) -> None:
    client.headers["accept-language"] = "pl"
    await clerk_logged_in(client)
    laureate_id, _ = await laureate()

    refused = await upload(client, laureate_id, b"%PDF-1.4 not a picture %%EOF", name="skan.jpg")

    assert refused.status_code == 400
    assert "Zdjęcie musi być plikiem JPEG lub PNG." in refused.text
    assert 'aria-invalid="true"' in refused.text
    # The texts typed stay in the form.
    assert "Олена Коваленко усміхається перед бібліотекою.</textarea>" in refused.text
    unticked = await upload(client, laureate_id, jpeg(), consent="-")
    assert unticked.status_code == 400
    assert "Zaznacz pole" in unticked.text
    assert (await Portrait.count(), await PortraitImage.count()) == (0, 0)
    assert await AuditEntry.count().where(AuditEntry.action.like("portrait.%")) == 0


async def test_the_clerk_replaces_then_removes_the_picture_after_being_asked(client: Client) -> None:
    english(client)
    await clerk_logged_in(client)
    laureate_id, slug = await laureate()
    await upload(client, laureate_id, jpeg())
    first = await client.get(f"/portraits/{slug}/1/320.webp")
    assert first.status_code == 200

    replaced = await upload(client, laureate_id, png_logo(), name="logo.png", kind="logo", consent="1")
    assert replaced.status_code == 303
    assert (await client.get(f"/portraits/{slug}/1/320.webp")).status_code == 404
    second = await client.get(f"/portraits/{slug}/2/500.webp")
    assert second.status_code == 200 and second.content != first.content
    assert "Source: Jan Kowalski" in (await client.get(f"/en/laureates/{slug}")).text

    page = (await client.get(f"/staff/laureates/{laureate_id}")).text
    assert f'href="/staff/laureates/{laureate_id}/portrait/remove"' in page
    asked = await client.get(f"/staff/laureates/{laureate_id}/portrait/remove")
    assert asked.status_code == 200
    assert "Remove the picture of Olena Kovalenko?" in asked.text
    assert f'action="/staff/laureates/{laureate_id}/portrait/remove"' in asked.text
    assert await PortraitImage.count() == 2  # asking changes nothing

    removed = await post_form(client, f"/staff/laureates/{laureate_id}/portrait/remove", {})

    assert (removed.status_code, removed.headers["location"]) == (303, f"/staff/laureates/{laureate_id}#picture")
    assert (await client.get(f"/portraits/{slug}/2/500.webp")).status_code == 404
    assert "/portraits/" not in (await client.get(f"/en/laureates/{slug}")).text
    assert "/portraits/" not in (await client.get("/en/laureates")).text
    actions = (
        await AuditEntry.select(AuditEntry.action).where(AuditEntry.action.like("portrait.%")).order_by(AuditEntry.id)
    )
    assert [a["action"] for a in actions] == ["portrait.added", "portrait.replaced", "portrait.removed"]
    # Removing again: nothing to remove, said on the page.
    again = await post_form(client, f"/staff/laureates/{laureate_id}/portrait/remove", {})
    assert again.status_code == 409
    assert "There is no picture to remove." in again.text


async def test_the_picture_is_not_served_before_publication_and_is_after(client: Client) -> None:
    english(client)
    await clerk_logged_in(client)
    laureate_id, slug = await laureate(published_at=utcnow() + dt.timedelta(days=3))
    saved = await upload(client, laureate_id, jpeg())
    assert saved.status_code == 303
    assert (await client.get(f"/staff/laureates/{laureate_id}/portrait/1/640.webp")).status_code == 200

    client.cookies.clear()
    for width in (320, 640, 960):
        assert (await client.get(f"/portraits/{slug}/1/{width}.webp")).status_code == 404
    assert "/portraits/" not in (await client.get("/en/laureates")).text
    assert (await client.get(f"/en/laureates/{slug}")).status_code == 404

    edition = await Laureate.select(Laureate.edition).where(Laureate.id == laureate_id).first()
    assert edition is not None
    await Edition.update({Edition.published_at: utcnow() - dt.timedelta(seconds=1)}).where(
        Edition.id == edition["edition"]
    )

    assert (await client.get(f"/portraits/{slug}/1/640.webp")).status_code == 200
    assert f"/portraits/{slug}/1/640.webp" in (await client.get(f"/en/laureates/{slug}")).text

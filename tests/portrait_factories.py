"""Pictures for the portrait tests: real JPEG and PNG files made with Pillow, a laureate to hang them on."""

from __future__ import annotations

import datetime as dt
import io

from PIL import Image

from ambassador.db import utcnow
from ambassador.domain.accounts import Account
from ambassador.domain.portraits import PictureData
from ambassador.enums import Role
from ambassador.tables import Laureate
from tests.archive_factories import add_laureate, archive_edition
from tests.factories import make_user

CAMERA = "SecretCam 3000"
# EXIF tags: Make, Orientation, GPS IFD.
MAKE, ORIENTATION, GPS_IFD = 0x010F, 0x0112, 0x8825
# A point in Kraków, as a phone writes it (degrees, minutes, seconds).
GPS = {1: "N", 2: (50.0, 3.0, 41.0), 3: "E", 4: (19.0, 56.0, 18.0)}


def jpeg(width: int = 1600, height: int = 1200, *, orientation: int = 1) -> bytes:
    """A photo with the metadata a phone writes: camera, GPS position, orientation."""
    image = Image.new("RGB", (width, height), (180, 40, 40))
    image.paste((20, 90, 200), (0, 0, width // 2, height // 4))  # a marker in the top-left area
    exif = Image.Exif()
    exif[MAKE] = CAMERA
    exif[ORIENTATION] = orientation
    exif.get_ifd(GPS_IFD).update(GPS)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif.tobytes(), comment=b"taken at home")
    return out.getvalue()


def png_logo(width: int = 500, height: int = 200) -> bytes:
    """A logo with transparency."""
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    image.paste((10, 120, 60, 255), (50, 50, width - 50, height - 50))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def described(**changes: object) -> PictureData:
    values: dict[str, object] = {
        "kind": "portrait",
        "alt_pl": "Olena Kowalenko uśmiecha się przed biblioteką.",
        "alt_en": "Olena Kovalenko smiles in front of a library.",
        "alt_uk": "Олена Коваленко усміхається перед бібліотекою.",
        "credit": "Jan Kowalski",
        "licence": "CC BY 4.0",
        "consent": True,
    }
    values.update(changes)
    return PictureData(**values)  # type: ignore[arg-type]


async def clerk(email: str = "clerk@example.org", name: str = "Celina Clerk") -> Account:
    return await make_user(email, (Role.CLERK,), name=name)


async def laureate(
    year: int = 2024, name: str = "Olena Kovalenko", *, published_at: dt.datetime | None = None
) -> tuple[int, str]:
    """A laureate of an edition published an hour ago (or at ``published_at``): id and slug."""
    edition = await archive_edition(year, published_at=published_at or utcnow() - dt.timedelta(hours=1))
    slug = await add_laureate(edition, name, citation_en="Runs a bilingual reading club.")
    row = await Laureate.select(Laureate.id).where(Laureate.slug == slug).first()
    assert row is not None
    return row["id"], slug

"""What the law asks of a public body's site: the accessibility statement and the title told plainly.

- ``/accessibility``: the accessibility statement (deklaracja dostępności) in the structure of
  the act of 4 April 2019 on the digital accessibility of public bodies' websites and of the
  ministry's template; its variable parts come from the honour file (``[accessibility]``).
- ``/about``: information about the title as text (machine-readable, for screen readers),
  with the place for the Polish Sign Language (PJM) recording the city provides
  (``[sign_language]``) or, without one, how to get the information in PJM.
- ``/about/easy-read``: the same in easy-to-read text (tekst łatwy do czytania).

The act of 19 July 2019 (art. 6 point 3 c) asks for the last two. The long texts live in one
template per language (``templates/about/*_{pl,en,uk}.html``), the short ones in the catalogs.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.response import File, Template

from ambassador import honour, i18n
from ambassador.settings import Settings
from ambassador.web.middleware import CONTENT_SECURITY_POLICY
from ambassador.web.public import ONE_YEAR

VIDEO_PATH = "/about/sign-language-video"
# Where a complaint goes after the procedure: the Commissioner for Human Rights (Rzecznik Praw
# Obywatelskich), the same for every public body in Poland.
OMBUDSMAN_URL = "https://www.rpo.gov.pl/"
# A host (and port) as a Content-Security-Policy source may name it: nothing that could end the directive.
HOST = re.compile(r"[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?")


def paragraphs(text: str) -> list[list[str]]:
    """A text's paragraphs (split at blank lines), each as its lines."""
    found = [[line.strip() for line in block.splitlines() if line.strip()] for block in text.split("\n\n")]
    return [lines for lines in found if lines]


def _localized(template: str) -> str:
    return f"about/{template}_{i18n.current_language.get()}.html"


def sign_language_video() -> tuple[str, str]:
    """(address, media type) of the PJM recording; ("", "") when none is configured."""
    chosen = honour.active().sign_language
    if chosen is None:
        return "", ""
    return (chosen.video_url or VIDEO_PATH), chosen.media_type


def media_policy(url: str) -> dict[str, str]:
    """The site's policy, letting a <video> load from the recording's own site."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not HOST.fullmatch(parts.netloc):
        return {}  # a file served here, or an address no policy can name safely
    return {"content-security-policy": f"{CONTENT_SECURITY_POLICY}; media-src 'self' {parts.scheme}://{parts.netloc}"}


class AboutController(Controller):
    opt = {"exclude_from_auth": True}
    include_in_schema = False

    @get("/accessibility", name="accessibility_statement")
    async def accessibility(self, settings: NamedDependency[Settings]) -> Template:
        """The accessibility statement, in the reader's language."""
        statement = honour.active().accessibility
        language = i18n.current_language.get()
        return Template(
            template_name=_localized("accessibility"),
            context={
                "statement": statement,
                "text": lambda texts: texts[language],
                "site_url": statement.site_url or settings.base_url,
                "ombudsman_url": OMBUDSMAN_URL,
            },
        )

    @get("/about", name="about_title")
    async def about(self) -> Template:
        """Information about the title as text, and the PJM recording (or how to get one)."""
        chosen = honour.active()
        video, media_type = sign_language_video()
        return Template(
            template_name="about/title.html",
            context={
                "statement": chosen.accessibility,
                "sign_language": chosen.sign_language,
                "video": video,
                "video_type": media_type,
            },
            headers=media_policy(video),
        )

    @get("/about/easy-read", name="about_easy_read")
    async def easy_read(self) -> Template:
        """The title in easy-to-read text."""
        chosen = honour.active()
        language = i18n.current_language.get()
        own = chosen.easy_read[language] if chosen.easy_read else ""
        return Template(
            template_name=_localized("easy_read"),
            context={
                "own": paragraphs(own),
                "statement": chosen.accessibility,
                "sign_language": chosen.sign_language,
            },
        )

    @get(VIDEO_PATH, name="about_sign_language_video", skip_session=True)
    async def video(self) -> File:
        """The PJM recording, when the honour file names a file (served here, no CDN)."""
        chosen = honour.active().sign_language
        if chosen is None or chosen.video_file is None:
            raise NotFoundException()
        return File(
            chosen.video_file,
            media_type=chosen.media_type,
            content_disposition_type="inline",
            headers={"cache-control": f"public, max-age={ONE_YEAR // 365}"},
        )

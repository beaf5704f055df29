"""Jinja environment: i18n extension bound to the request's language, filters, static URLs, the honour."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from ambassador import honour, i18n
from ambassador.enums import LANGUAGES, Role
from ambassador.errors import N_
from ambassador.resources import TEMPLATE_DIR
from ambassador.web import addresses, labels
from ambassador.web.static import hashed_path


def static_url(path: str) -> str:
    """A static file's address under its content-hashed name (``/static/css/app.<hash>.css``),
    cached by browsers for a year (ambassador.web.static)."""
    return hashed_path(path)


class ActiveHonour:
    """The ``honour`` of the templates: the active honour's attributes, read at each use."""

    def __getattr__(self, name: str) -> Any:
        return getattr(honour.active(), name)


def honour_text(field: str) -> str:
    """One of the active honour's texts in the request's language (``honour_text('name')``)."""
    return honour.active().text(field, i18n.current_language.get())


def honour_logo_url() -> str | None:
    """The logo's address with a content hash (None without a logo), as ``static_url`` does."""
    logo = honour.active().logo
    return None if logo is None else f"/honour/logo?v={_logo_digest(logo)}"


@cache
def _logo_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def _gettext(message: str) -> str:
    return i18n.translations(i18n.current_language.get()).gettext(message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    return i18n.translations(i18n.current_language.get()).ngettext(singular, plural, n)


ROLE_LABELS = {Role.ADMIN: N_("administrator"), Role.CLERK: N_("clerk"), Role.JUROR: N_("juror")}


def role_label(role: Role | str) -> str:
    return i18n.gettext(ROLE_LABELS[Role(role)])


def session_of(request: Any) -> dict[str, Any]:
    """The session if the session middleware ran for this request (not on bare 404s)."""
    session = request.scope.get("session")
    return session if isinstance(session, dict) else {}


def pop_flashes(request: Any) -> list[dict[str, str]]:
    """Messages queued with ``litestar.plugins.flash.flash``; shown once."""
    messages = session_of(request).pop("_messages", [])
    return messages if isinstance(messages, list) else []


def build_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(
        datetime=i18n.format_datetime,
        date=i18n.format_date,
        number=i18n.format_number,
        filesize=i18n.format_size,
    )
    env.globals.update(
        static_url=static_url,
        session_of=session_of,
        pop_flashes=pop_flashes,
        role_label=role_label,
        current_language=i18n.current_language.get,
        languages=LANGUAGES,
        language_name=i18n.language_name,
        # Who a category's nominees may be, in the request's language (the nomination form).
        nominee_kind_label=labels.nominee_kind,
        Role=Role,
        honour=ActiveHonour(),
        honour_text=honour_text,
        honour_logo_url=honour_logo_url,
    )
    addresses.install(env)  # url(), page_url(), hreflang alternates, canonical address
    return env


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(build_environment()))

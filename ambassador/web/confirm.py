"""Every irreversible step's confirmation page: its consequences, translated, and the form that takes it.

The domain says what a step would do (``domain.consequences.Consequences``); this module puts it
in the request's language for ``templates/_confirm.html`` (the macros) and ``templates/confirm.html``
(the page of the edition's steps, the chair's steps and a withdrawal; the decision's own page uses
the macros inside its form).
"""

from __future__ import annotations

from typing import Any

from litestar.response import Template

from ambassador import i18n
from ambassador.domain.consequences import Consequences
from ambassador.errors import Message
from ambassador.web.downloads import NO_STORE


def said(messages: tuple[Message, ...]) -> list[str]:
    """Each message in the request's language; a parameter that is itself a msgid is translated too."""
    return [
        i18n.gettext(m, **{k: i18n.gettext(v) if isinstance(v, Message) else v for k, v in m.params.items()})
        for m in messages
    ]


def context(
    found: Consequences,
    *,
    title: str,
    action: str,
    cancel_url: str,
    context_label: str,
    hidden: tuple[tuple[str, str], ...] = (),
    problem: str = "",
    **extra: Any,
) -> dict[str, Any]:
    """The template's ``c``: the consequences in words, and where the confirmation posts."""
    return {
        "title": title,
        "action": action,
        "button": extra.pop("button", title),
        "cancel_url": cancel_url,
        "context_label": context_label,
        "hidden": hidden,
        "problem": problem,
        "changes": said(found.changes),
        "blocking": said(found.blocking),
        "warnings": said(found.warnings),
        "mailed": found.mailed,
        "reason": None,
        "errors": {},
        "confirm_box": False,
        **extra,
    }


def page(c: dict[str, Any], status_code: int = 200, **more: Any) -> Template:
    """The shared confirmation page (``templates/confirm.html``)."""
    return Template(template_name="confirm.html", context={"c": c, **more}, headers=NO_STORE, status_code=status_code)

"""What automatic detection looks for: shared addresses and domains, names, organisations.

Pure functions, no database (``conflicts.detect`` runs them over an edition).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ambassador.domain.jury import Juror
from ambassador.text import fold

WEBMAIL = frozenset(
    {
        "gmail.com", "googlemail.com", "wp.pl", "onet.pl", "onet.eu", "op.pl", "o2.pl", "interia.pl",
        "interia.eu", "poczta.fm", "gazeta.pl", "tlen.pl", "vp.pl", "outlook.com", "hotmail.com",
        "live.com", "msn.com", "yahoo.com", "icloud.com", "me.com", "aol.com", "proton.me",
        "protonmail.com", "gmx.com", "gmx.de", "gmx.net", "ukr.net", "i.ua", "meta.ua", "yandex.ru",
        "mail.ru", "zoho.com",
    }
)  # fmt: skip


@dataclass(frozen=True)
class NomineeFacts:
    """The fields detection reads (never shown to the juror)."""

    nomination_id: int
    nominee_name: str
    nominee_email: str
    nominator_name: str
    nominator_email: str
    nominator_organisation: str


def _domain(email: str) -> str:
    return email.rsplit("@", 1)[-1].lower() if "@" in email else ""


def _contains_words(haystack: str, needle: str) -> bool:
    """``needle`` (folded) appears in ``haystack`` (folded) as whole words."""
    if not needle or not haystack:
        return False
    return re.search(rf"(?<![a-z0-9]){re.escape(needle)}(?![a-z0-9])", haystack) is not None


def evidence(juror: Juror, facts: NomineeFacts) -> list[str]:
    """Why this juror may be conflicted on this nomination (empty: nothing found). Pure."""
    found: list[str] = []
    email = juror.email.lower()
    for label, other in (("nominee email", facts.nominee_email), ("nominator email", facts.nominator_email)):
        if other and other.lower() == email:
            found.append(f"same address as the {label}")
        elif other and _domain(other) == _domain(email) and _domain(email) not in WEBMAIL:
            found.append(f"same organisation domain as the {label} ({_domain(email)})")
    fields = {
        "nominee": fold(facts.nominee_name),
        "nominator": fold(facts.nominator_name),
        "nominator's organisation": fold(facts.nominator_organisation),
    }
    name = fold(juror.display_name)
    surname = name.rsplit(" ", 1)[-1] if " " in name else ""
    for label, text in fields.items():
        if " " in name and _contains_words(text, name):
            found.append(f"juror's name in the {label}")
        elif len(surname) >= 4 and _contains_words(text, surname):
            found.append(f"juror's surname in the {label}")
        for organisation in juror.organisations:
            if _contains_words(text, fold(organisation)):
                found.append(f"juror's organisation '{organisation}' in the {label}")
    return found

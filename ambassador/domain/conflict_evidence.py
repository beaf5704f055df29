"""What automatic detection looks for: shared addresses and domains, names, organisations.

Pure functions, no database (``conflicts.detect`` runs them over an edition).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import StrEnum

from ambassador.domain.jury import Juror
from ambassador.i18n import translate
from ambassador.text import fold
from ambassador.vocabulary import EVIDENCE

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


class Clue(StrEnum):
    """What was found; with the field it was found in, one sentence of ``vocabulary.EVIDENCE``."""

    SAME_ADDRESS = "same_address"
    SAME_DOMAIN = "same_domain"
    NAME = "name"
    SURNAME = "surname"
    ORGANISATION = "organisation"


class Where(StrEnum):
    NOMINEE_EMAIL = "nominee_email"
    NOMINATOR_EMAIL = "nominator_email"
    NOMINEE = "nominee"
    NOMINATOR = "nominator"
    NOMINATOR_ORGANISATION = "nominator_organisation"


@dataclass(frozen=True)
class Evidence:
    """One reason to suspect a conflict, stored as codes so that each reader gets it in their
    language (the clerk's page, the chair's, the minutes); ``value`` is the matched domain or
    organisation, shown as found."""

    clue: Clue
    where: Where
    value: str = ""

    @property
    def key(self) -> str:
        return f"{self.clue}:{self.where}"


def evidence(juror: Juror, facts: NomineeFacts) -> list[Evidence]:
    """Why this juror may be conflicted on this nomination (empty: nothing found). Pure."""
    found: list[Evidence] = []
    email = juror.email.lower()
    for where, other in ((Where.NOMINEE_EMAIL, facts.nominee_email), (Where.NOMINATOR_EMAIL, facts.nominator_email)):
        if other and other.lower() == email:
            found.append(Evidence(Clue.SAME_ADDRESS, where))
        elif other and _domain(other) == _domain(email) and _domain(email) not in WEBMAIL:
            found.append(Evidence(Clue.SAME_DOMAIN, where, _domain(email)))
    fields = {
        Where.NOMINEE: fold(facts.nominee_name),
        Where.NOMINATOR: fold(facts.nominator_name),
        Where.NOMINATOR_ORGANISATION: fold(facts.nominator_organisation),
    }
    name = fold(juror.display_name)
    surname = name.rsplit(" ", 1)[-1] if " " in name else ""
    for where, text in fields.items():
        if " " in name and _contains_words(text, name):
            found.append(Evidence(Clue.NAME, where))
        elif len(surname) >= 4 and _contains_words(text, surname):
            found.append(Evidence(Clue.SURNAME, where))
        for organisation in juror.organisations:
            if _contains_words(text, fold(organisation)):
                found.append(Evidence(Clue.ORGANISATION, where, organisation))
    return found


def encode(found: list[Evidence]) -> str:
    """The stored form: a JSON list of codes."""
    return json.dumps([{"clue": e.clue.value, "where": e.where.value, "value": e.value} for e in found])


# Detections made before the codes were stored as English sentences joined by "; ".
_LEGACY_WHERE = {
    "nominee email": Where.NOMINEE_EMAIL,
    "nominator email": Where.NOMINATOR_EMAIL,
    "nominee": Where.NOMINEE,
    "nominator": Where.NOMINATOR,
    "nominator's organisation": Where.NOMINATOR_ORGANISATION,
}
_LEGACY = (
    (re.compile(r"^same address as the (.+)$"), Clue.SAME_ADDRESS),
    (re.compile(r"^same organisation domain as the (.+) \((.*)\)$"), Clue.SAME_DOMAIN),
    (re.compile(r"^juror's name in the (.+)$"), Clue.NAME),
    (re.compile(r"^juror's surname in the (.+)$"), Clue.SURNAME),
    (re.compile(r"^juror's organisation '(.*)' in the (.+)$"), Clue.ORGANISATION),
)


def _legacy(sentence: str) -> Evidence | None:
    for pattern, clue in _LEGACY:
        if match := pattern.match(sentence):
            groups = match.groups()
            where, value = (groups[1], groups[0]) if clue is Clue.ORGANISATION else (groups[0], "".join(groups[1:]))
            if where in _LEGACY_WHERE:
                return Evidence(clue, _LEGACY_WHERE[where], value)
    return None


def decode(stored: str) -> tuple[Evidence, ...]:
    """The stored evidence as codes; an older English sentence is read back into its codes
    (one that cannot be is dropped rather than shown untranslated: the detection itself stays)."""
    if not stored:
        return ()
    try:
        items = json.loads(stored)
        return tuple(Evidence(Clue(i["clue"]), Where(i["where"]), str(i.get("value", ""))) for i in items)
    except (ValueError, TypeError, KeyError):
        return tuple(e for sentence in stored.split("; ") if (e := _legacy(sentence)) is not None)


def describe(found: Evidence, language: str) -> str:
    """One piece of evidence as a sentence in ``language``."""
    return translate(language, EVIDENCE[found.key], value=found.value)

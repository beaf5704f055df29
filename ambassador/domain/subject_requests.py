"""People's requests about their data (GDPR articles 15 to 17): find, correct, and the register.

A clerk finds everything held about one email address (compared whole, whatever its case)
or one name (folded like ``nominee_key``: case and diacritics do not matter, the whole name
must match). What is found is a list of :class:`Item`: nominations made and received, the
nominee's consent, drafts of the form, laureate records and their pictures, mails in the
outbox, staff accounts. ``subject_export`` writes them for the person, ``subject_erasure``
erases what the law allows; ``correct`` fixes a name, address or phone on a nomination.

Every request and its answer is one audit entry (``privacy.*``). The audit log keeps no
personal value in clear: the person is named by a keyed digest of the query (the same person
asked about twice has the same digest, which tells nothing without the audit key), and a
correction records which fields changed with digests of the old and new values. The register
of requests on the clerk's page is read from those entries (docs/privacy-requests.md).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from ambassador.db import write_transaction
from ambassador.domain import audit
from ambassador.domain.accounts import email_error, normalise_email
from ambassador.domain.drafts import from_json
from ambassador.domain.editions import EditionView, list_editions
from ambassador.domain.nominations import parse_descriptions
from ambassador.enums import EditionState, NominationState
from ambassador.errors import N_, InvalidInput, too_long
from ambassador.i18n import TIMEZONE
from ambassador.tables import Laureate, Nomination, NominationDraft, OutboxMail, Portrait, User
from ambassador.text import clean_line, fold
from ambassador.vocabulary import CONSENTS, DISTINCTIONS, NOMINATION_STATES

MAX_QUERY = 254
MAX_EMAIL = 254

# The kinds of item, with their names for people.
NOMINATION_MADE = "nomination_made"
NOMINATION_RECEIVED = "nomination_received"
CONSENT = "consent"
DRAFT = "draft"
LAUREATE = "laureate"
PORTRAIT = "portrait"
MAIL = "mail"
ACCOUNT = "account"
KINDS: dict[str, str] = {
    NOMINATION_MADE: N_("Nomination made"),
    NOMINATION_RECEIVED: N_("Nomination received"),
    CONSENT: N_("Consent to the nomination"),
    DRAFT: N_("Draft of the nomination form"),
    LAUREATE: N_("Laureate record"),
    PORTRAIT: N_("Laureate's picture"),
    MAIL: N_("Mail sent"),
    ACCOUNT: N_("Staff account"),
}
MAIL_STATUSES: dict[str, str] = {
    "pending": N_("waiting to be sent"),
    "sent": N_("sent"),
    "failed": N_("not delivered"),
}
ACCOUNT_STATES: dict[str, str] = {"active": N_("active"), "inactive": N_("deactivated")}

# The requests, as audit actions, and their names in the register.
FIND, EXPORT, CORRECT, ERASE = "privacy.find", "privacy.export", "privacy.correct", "privacy.erase"
ACTIONS: dict[str, str] = {
    FIND: N_("Search (art. 15)"),
    EXPORT: N_("Copy of the data (art. 15 and 20)"),
    CORRECT: N_("Correction (art. 16)"),
    ERASE: N_("Erasure (art. 17)"),
}
OUTCOMES: dict[str, str] = {
    "found": N_("answered: items found"),
    "nothing": N_("answered: nothing held"),
    "exported": N_("copy given"),
    "corrected": N_("corrected"),
    "erased": N_("erased"),
    "partly": N_("partly erased, partly refused"),
    "refused": N_("refused"),
}

# Nominations whose record is public by design (as retention keeps them).
KEPT_STATES = frozenset({NominationState.LAUREATE, NominationState.APPROVED})
FINAL_EDITIONS = frozenset({EditionState.APPROVED, EditionState.PUBLISHED})
# Nominations still in the competition: erasing one withdraws it.
ACTIVE_STATES = frozenset(
    {
        NominationState.UNCONFIRMED,
        NominationState.SUBMITTED,
        NominationState.ACCEPTED,
        NominationState.SHORTLISTED,
        NominationState.RECOMMENDED,
    }
)
PUBLIC_RECORD = N_(
    "A laureate's record is kept: it is public by design, in the public interest and for "
    "the city's archive (GDPR art. 17(3)(b) and (d)). Its text can be corrected instead."
)
SIDES = ("nominee", "nominator")


@dataclass(frozen=True)
class Query:
    """What the clerk searched for: ``kind`` "email" or "name", ``value`` normalised."""

    kind: str
    value: str

    def digest(self) -> str:
        return subject_digest(f"{self.kind}\0{self.value}")


@dataclass(frozen=True)
class Item:
    """One thing held about the person; ``fields`` are (label msgid, value) for the copy."""

    kind: str
    id: int
    title: str
    edition: str = ""
    state: str = ""
    state_label: str = ""  # msgid of the state, or "" to show ``state`` as it is
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    fields: tuple[tuple[str, str], ...] = ()
    can_correct: bool = False
    can_erase: bool = False
    refusal: str = ""  # msgid: why it may not be erased
    withdraws: bool = False  # erasing it withdraws a nomination still in the competition
    link: str = ""  # the staff page where the item lives

    @property
    def token(self) -> str:
        return f"{self.kind}:{self.id}"

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind]


@dataclass(frozen=True)
class Found:
    query: Query
    items: tuple[Item, ...]

    def of_kind(self, kind: str) -> tuple[Item, ...]:
        return tuple(i for i in self.items if i.kind == kind)

    def get(self, token: str) -> Item | None:
        return next((i for i in self.items if i.token == token), None)


def subject_digest(value: str) -> str:
    """A keyed digest of a personal value for the audit log (tells nothing without the key)."""
    key = audit.config().keyring.current.encode()
    return hmac.new(key, b"privacy subject\0" + value.encode(), hashlib.sha256).hexdigest()[:16]


def parse_query(raw: str) -> Query:
    """An email address (it has an "@") or a name; InvalidInput with a clear message otherwise."""
    text = clean_line(raw)
    if not text:
        raise InvalidInput({"query": N_("Enter an email address or a name.")})
    if len(text) > MAX_QUERY:
        raise InvalidInput({"query": too_long(MAX_QUERY)})
    if "@" in text:
        if email_error(text) is not None:
            raise InvalidInput({"query": N_("Enter a valid email address, like name@example.org.")})
        return Query("email", normalise_email(text))
    key = fold(text)
    if not key:
        raise InvalidInput({"query": N_("Enter a name with at least one letter.")})
    return Query("name", key)


# --- finding ------------------------------------------------------------------------------


def _same_email(stored: str, query: Query) -> bool:
    return query.kind == "email" and bool(stored) and normalise_email(stored) == query.value


def _same_name(stored: str, query: Query) -> bool:
    return query.kind == "name" and bool(stored) and fold(stored) == query.value


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.astimezone(TIMEZONE).strftime("%Y-%m-%d %H:%M")
    return str(value)


def _nomination_common(row: dict[str, Any]) -> list[tuple[str, str]]:
    descriptions = parse_descriptions(row["descriptions"])
    return [
        (N_("Reference"), row["reference"]),
        (N_("Category"), row["category"]),
        (N_("Nominee"), row["nominee_name"]),
        (N_("Descriptions"), "\n\n".join(v for _, v in sorted(descriptions.items()))),
        (N_("Links"), row["links"]),
        (N_("Language"), row["language"]),
        (N_("Received"), _text(row["created_at"])),
        (N_("Confirmed"), _text(row["confirmed_at"])),
    ]


def _nomination_item(row: dict[str, Any], kind: str, edition: EditionView | None) -> Item:
    """A nomination the person made or received. Only their own contact data goes in the copy:
    the nominator's address is not the nominee's to read, nor the other way round."""
    if kind == NOMINATION_MADE:
        own = [
            (N_("Nominator"), row["nominator_name"]),
            (N_("Email"), row["nominator_email"]),
            (N_("Phone"), row["nominator_phone"]),
            (N_("Organisation"), row["nominator_organisation"]),
            (N_("Relation to the nominee"), row["nominator_relation"]),
        ]
    else:
        own = [
            (N_("Email"), row["nominee_email"]),
            (N_("Phone"), row["nominee_phone"]),
            (N_("Website"), row["organisation_website"]),
            (N_("Registry number"), row["registry_number"]),
            (N_("Nominated by"), row["nominator_name"]),
        ]
    state = NominationState(row["state"])
    erased = row["erased_at"] is not None
    kept = state in KEPT_STATES
    under_way = edition is not None and edition.state not in FINAL_EDITIONS and state in ACTIVE_STATES
    return Item(
        kind=kind,
        id=row["id"],
        title=row["reference"],
        edition=edition.label if edition else "",
        state=state.value,
        state_label=NOMINATION_STATES.get(state.value, ""),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        fields=tuple(_nomination_common(row) + own),
        can_correct=not erased,
        can_erase=not erased and not kept,
        refusal=PUBLIC_RECORD if kept and not erased else "",
        withdraws=under_way and not erased and not kept,
        link=f"/staff/nominations/{row['id']}",
    )


def _consent_item(row: dict[str, Any], edition: EditionView | None) -> Item:
    return Item(
        kind=CONSENT,
        id=row["id"],
        title=row["reference"],
        edition=edition.label if edition else "",
        state=row["consent"],
        state_label=CONSENTS.get(row["consent"], ""),
        created_at=row["consent_at"],
        updated_at=row["updated_at"],
        fields=((N_("Reference"), row["reference"]), (N_("Consent recorded"), _text(row["consent_at"]))),
        link=f"/staff/nominations/{row['id']}",
    )


async def _nominations(query: Query, editions: dict[int, EditionView]) -> list[Item]:
    items: list[Item] = []
    rows = await Nomination.select().where(Nomination.erased_at.is_null()).order_by(Nomination.id)
    for row in rows:
        edition = editions.get(row["edition"])
        if _same_email(row["nominator_email"], query) or _same_name(row["nominator_name"], query):
            items.append(_nomination_item(row, NOMINATION_MADE, edition))
        received = _same_email(row["nominee_email"], query) or (
            query.kind == "name" and row["nominee_key"] == query.value
        )
        if received:
            items.append(_nomination_item(row, NOMINATION_RECEIVED, edition))
            if row["consent"] != "pending" or row["consent_at"] is not None:
                items.append(_consent_item(row, edition))
    return items


async def _drafts(query: Query, editions: dict[int, EditionView]) -> list[Item]:
    items: list[Item] = []
    for row in await NominationDraft.select().order_by(NominationDraft.id):
        data = from_json(row["form_values"])
        if not (
            _same_email(row["nominator_email"], query)
            or _same_name(data.nominator_name, query)
            or _same_name(data.nominee_name, query)
            or _same_email(data.nominee_email, query)
        ):
            continue
        edition = editions.get(row["edition"])
        fields = [
            (N_("Email"), row["nominator_email"]),
            (N_("Nominator"), data.nominator_name),
            (N_("Nominee"), data.nominee_name),
            (N_("Descriptions"), "\n\n".join(v for _, v in sorted(data.descriptions.items()) if v)),
            (N_("Saved"), _text(row["updated_at"])),
        ]
        items.append(
            Item(
                kind=DRAFT,
                id=row["id"],
                title=data.nominee_name or "—",
                edition=edition.label if edition else "",
                created_at=row["created_at"],
                updated_at=row["updated_at"],
                fields=tuple(fields),
                can_erase=True,
            )
        )
    return items


async def _laureates(query: Query, nomination_ids: set[int], editions: dict[int, EditionView]) -> list[Item]:
    rows = await Laureate.select().order_by(Laureate.id)
    items: list[Item] = []
    for row in rows:
        if not ((query.kind == "name" and row["name_key"] == query.value) or row["nomination"] in nomination_ids):
            continue
        edition = editions.get(row["edition"])
        fields = [
            (N_("Name"), row["name"]),
            (N_("Category"), row["category"]),
            (N_("Distinction"), row["distinction"]),
            (N_("Citation (Polish)"), row["citation_pl"]),
            (N_("Citation (English)"), row["citation_en"]),
            (N_("Citation (Ukrainian)"), row["citation_uk"]),
            (N_("Withdrawn"), row["withdrawn_reason"]),
        ]
        items.append(
            Item(
                kind=LAUREATE,
                id=row["id"],
                title=row["name"],
                edition=edition.label if edition else "",
                state=row["distinction"],
                state_label=DISTINCTIONS.get(row["distinction"], ""),
                created_at=row["created_at"],
                updated_at=row["corrected_at"],
                fields=tuple(fields),
                refusal=PUBLIC_RECORD,
                link=f"/staff/laureates/{row['id']}",
            )
        )
        portrait = await Portrait.select().where(Portrait.laureate == row["id"]).first()
        if portrait is not None and portrait["has_image"]:
            items.append(
                Item(
                    kind=PORTRAIT,
                    id=portrait["id"],
                    title=row["name"],
                    edition=edition.label if edition else "",
                    state=portrait["kind"],
                    created_at=portrait["consent_recorded_at"],
                    updated_at=portrait["changed_at"],
                    fields=((N_("Credit"), portrait["credit"]), (N_("Licence"), portrait["licence"])),
                    link=f"/staff/laureates/{row['id']}",
                )
            )
    return items


async def _mails(query: Query) -> list[Item]:
    if query.kind != "email":
        return []
    items: list[Item] = []
    cols = (OutboxMail.id, OutboxMail.to_address, OutboxMail.subject, OutboxMail.status, OutboxMail.created_at)
    for row in await OutboxMail.select(*cols, OutboxMail.sent_at).order_by(OutboxMail.id):
        if not _same_email(row["to_address"], query):
            continue
        items.append(
            Item(
                kind=MAIL,
                id=row["id"],
                title=row["subject"],
                state=row["status"],
                state_label=MAIL_STATUSES.get(row["status"], ""),
                created_at=row["created_at"],
                updated_at=row["sent_at"],
                fields=((N_("Address"), row["to_address"]), (N_("Subject"), row["subject"])),
                can_erase=True,
            )
        )
    return items


async def _accounts(query: Query) -> list[Item]:
    items: list[Item] = []
    for row in await User.select(User.id, User.email, User.display_name, User.is_active, User.created_at):
        if not (_same_email(row["email"], query) or _same_name(row["display_name"], query)):
            continue
        state = "active" if row["is_active"] else "inactive"
        items.append(
            Item(
                kind=ACCOUNT,
                id=row["id"],
                title=row["display_name"],
                state=state,
                state_label=ACCOUNT_STATES[state],
                created_at=row["created_at"],
                fields=((N_("Name"), row["display_name"]), (N_("Email"), row["email"])),
                link=f"/admin/users/{row['id']}",
            )
        )
    return items


async def collect(query: Query) -> Found:
    """Everything held about the person, without auditing (``find`` audits)."""
    editions = {e.id: e for e in await list_editions()}
    nominations = await _nominations(query, editions)
    received = {i.id for i in nominations if i.kind == NOMINATION_RECEIVED}
    items = [
        *nominations,
        *await _drafts(query, editions),
        *await _laureates(query, received, editions),
        *await _mails(query),
        *await _accounts(query),
    ]
    return Found(query, tuple(items))


def _counts(found: Found) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in found.items:
        counts[item.kind] = counts.get(item.kind, 0) + 1
    return counts


async def find(*, actor_id: int, raw_query: str) -> Found:
    """Search and audit the search (the query's digest and what kinds of item were found)."""
    query = parse_query(raw_query)
    found = await collect(query)
    async with write_transaction():
        await audit.record(
            FIND,
            actor_id=actor_id,
            object_type="data_subject",
            object_id=query.digest(),
            data={
                "query_kind": query.kind,
                "found": _counts(found),
                "outcome": "found" if found.items else "nothing",
            },
        )
    return found

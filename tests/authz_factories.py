"""One data set full of things to leak, for the authorisation matrix.

Three editions:

* 2025, deliberating: three shortlisted category-B nominations, each with contact data, a
  distinctive text and a file of its own; Ewa chairs, Marta is a plain juror, Tomasz is
  conflicted on Bohdan's nomination (declared, and detected by his mail domain, which is the
  nominator's; the clerk confirmed the detection). Everyone scored with distinctive comments,
  scoring is closed, two proposals are open (Olena for a title, Bohdan for a mention).
* 2024, jury scoring: one nomination of its own; Olga is its only juror and chairs it.
* 2023, published with the moment a week ahead: one laureate, not public yet.
* 2022, published: one public laureate.

Clerks must use a second factor: the clerk has one, Nina (a clerk too) has not set hers up.

Every string in ``Secrets`` occurs nowhere else: a page showing one has leaked it. The
nominator of Bohdan's nomination holds its private manage link.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from hashlib import sha256

from ambassador.db import utcnow
from ambassador.domain import (
    conflict_declarations,
    deliberation,
    portraits,
    scoring_round,
    second_factor,
)
from ambassador.domain.accounts import Account
from ambassador.domain.jury import JuryRules
from ambassador.domain.nominations import Upload
from ambassador.domain.portraits import PictureData
from ambassador.enums import ConflictKind, Distinction, Role, VoteChoice
from ambassador.tables import Attachment, DetectedConflict, Laureate, OutboxMail, User
from tests.archive_factories import add_laureate, archive_edition
from tests.clerk_factories import BASE, PNG
from tests.factories import make_user, set_quota
from tests.jury_factories import Scoring, declare_none, scoring_edition, submit_scores
from tests.portrait_factories import png_logo

# The nominations of 2025, in order: Olena, Bohdan (the conflicted one), Iryna.
NOMINEES_2025: tuple[dict[str, object], ...] = (
    {
        "nominee_name": "Olena Zastavna",
        "nominee_email": "olena.zastavna@nominee-one.example",
        "nominee_phone": "+48 601 000 111",
        "nominator_name": "Anna Nowak",
        "nominator_email": "anna.nowak@nominator-one.example",
        "texts": {0: "SECRET-TEXT-ONE runs a bilingual reading club."},
    },
    {
        "nominee_name": "Bohdan Marchuk",
        "nominee_email": "bohdan.marchuk@nominee-two.example",
        "nominator_name": "Piotr Zielinski",
        "nominator_email": "piotr.zielinski@nominator-two.example",
        "nominator_phone": "+48 602 000 222",
        "texts": {0: "SECRET-TEXT-TWO leads a Ukrainian choir."},
    },
    {
        "nominee_name": "Iryna Holub",
        "nominee_email": "iryna.holub@nominee-three.example",
        "nominator_name": "Adam Mazur",
        "nominator_email": "adam.mazur@nominator-three.example",
        "texts": {0: "SECRET-TEXT-THREE teaches Polish to newcomers."},
    },
)
# Chair first; Tomasz shares the mail domain of Bohdan's nominator (a detected conflict).
JURORS_2025: tuple[tuple[str, str], ...] = (
    ("ewa.pawlak@jury.example.net", "Ewa Pawlak"),
    ("marta.krawczyk@jury.example.net", "Marta Krawczyk"),
    ("tomasz.dudek@nominator-two.example", "Tomasz Dudek"),
)
# Per juror, the score on each nomination (None: conflicted). Olena's mean is 7.67, Iryna's 7.33.
SCORES: tuple[tuple[int | None, ...], ...] = ((9, 6, 7), (8, 7, 8), (6, None, 7))
NOMINEE_2024: dict[str, object] = {
    "nominee_name": "Marek Odlegly",
    "nominee_email": "marek.odlegly@nominee-2024.example",
    "nominator_name": "Zofia Daleka",
    "nominator_email": "zofia.daleka@nominator-2024.example",
    "texts": {0: "SECRET-TEXT-2024 organises a neighbourhood festival."},
}
JUROR_2024 = ("olga.inna@jury-2024.example.net", "Olga Inna")
OTHER_FILE = "SECRET-FILE-2024"
PUBLIC_LAUREATE = "Lena Publiczna"
SCHEDULED_LAUREATE = ("Wiktor Zaplanowany", "SECRET-CITATION-SCHEDULED for a festival.")
# The scheduled laureate's portrait: its description is the clerk's until the publication.
SCHEDULED_PICTURE = "SECRET-PORTRAIT-SCHEDULED"


NUMBERS = ("ONE", "TWO", "THREE")
CONTACT_FIELDS = ("nominee_email", "nominee_phone", "nominator_email", "nominator_phone")


def file_marker(number: int) -> str:
    return f"SECRET-FILE-{NUMBERS[number - 1]}"


def file_of(number: int) -> bytes:
    """A PNG whose bytes name the nomination, so a leaked download shows."""
    return PNG + file_marker(number).encode()


def comment_of(juror: Account, number: int, kind: str = "COMMENT") -> str:
    """A juror's overall comment (or, with ``kind="REMARK"``, remark on a criterion)."""
    return f"SECRET-{kind}-{juror.display_name.split()[0].upper()}-{NUMBERS[number - 1]}"


@dataclass(frozen=True)
class Secrets:
    """The distinctive strings of the data set, grouped by who may legitimately read them.

    The ``dict`` fields are keyed by the 2025 nomination's id.
    """

    contacts: dict[int, tuple[str, ...]]  # addresses and phones: the clerk's (and the nominator's own)
    names: dict[int, str]  # the nominee's name: the edition's jury sees it
    texts: dict[int, tuple[str, ...]]  # the nominator's text and the file: jurors not conflicted
    comments: dict[int, tuple[str, ...]]  # every juror's comments and remarks on the nomination
    results: tuple[str, ...]  # computed means: the chair's and the clerk's
    other_contacts: tuple[str, ...]  # the 2024 nomination's contact data
    other_texts: tuple[str, ...]  # the 2024 nomination's name, text and file: its jury's
    scheduled: tuple[str, ...]  # the laureate published a week from now: the clerk's until then

    def of(self, nomination_id: int) -> frozenset[str]:
        """Everything of one 2025 nomination but its jury's comments."""
        return frozenset({*self.contacts[nomination_id], self.names[nomination_id], *self.texts[nomination_id]})

    def everything(self) -> frozenset[str]:
        found = {*self.results, *self.other_contacts, *self.other_texts, *self.scheduled}
        for nomination_id in self.names:
            found.update(self.of(nomination_id), self.comments[nomination_id])
        return frozenset(found)


@dataclass(frozen=True)
class World:
    scored: Scoring
    admin: Account
    other_juror: Account
    other_edition_id: int
    conflicted_nomination: int
    attachment_id: int  # the conflicted nomination's file
    detection_id: int
    proposal_id: int  # the proposal on the conflicted nomination
    manage_token: str  # the private link of the conflicted nomination's nominator
    laureate_id: int  # the scheduled laureate's record
    laureate_slug: str  # the scheduled laureate's address in the archive
    scheduled_year: int
    public_laureate: str  # the published laureate's name
    clerk_totp_secret: str  # the clerk's second factor (mandatory for clerks)
    enrolling_clerk: Account  # a clerk who has not set up the mandatory second factor yet
    secrets: Secrets

    @property
    def clerk(self) -> Account:
        return self.scored.clerk

    @property
    def chair(self) -> Account:
        return self.scored.jurors[0]

    @property
    def juror(self) -> Account:
        return self.scored.jurors[1]

    @property
    def conflicted_juror(self) -> Account:
        return self.scored.jurors[2]


async def _link(to: str, prefix: str) -> str:
    """The token of the link ``/<prefix>/<token>`` mailed to ``to``."""
    mails = await OutboxMail.select(OutboxMail.body_text).where(OutboxMail.to_address == to).order_by(OutboxMail.id)
    found = [m.group(1) for mail in mails if (m := re.search(rf"{BASE}/{prefix}/([A-Za-z0-9_-]+)", mail["body_text"]))]
    assert len(found) == 1, found
    return found[0]


async def _mark_file(nomination_id: int, content: bytes) -> None:
    """Give the nomination's scan a content of its own (the factories upload identical scans)."""
    await Attachment.update(
        {Attachment.content: content, Attachment.size: len(content), Attachment.sha256: sha256(content).hexdigest()}
    ).where(Attachment.nomination == nomination_id)


async def build_world() -> World:
    admin = await make_user("ada.admin@staff.example.net", (Role.ADMIN,), name="Ada Admin")
    await add_laureate(await archive_edition(2022), PUBLIC_LAUREATE, citation_en="A public citation.")
    scheduled = await archive_edition(2023, published_at=utcnow() + dt.timedelta(days=7))
    slug = await add_laureate(scheduled, SCHEDULED_LAUREATE[0], citation_en=SCHEDULED_LAUREATE[1])
    laureate = await Laureate.select(Laureate.id).where(Laureate.slug == slug).first()
    assert laureate is not None
    picture = PictureData(
        alt_pl=SCHEDULED_PICTURE, alt_en=SCHEDULED_PICTURE, alt_uk=SCHEDULED_PICTURE, licence="CC BY 4.0", consent=True
    )
    await portraits.save(
        actor_id=admin.id, laureate_id=laureate["id"], data=picture, upload=Upload("portrait.png", png_logo())
    )

    other = await scoring_edition(year=2024, jurors=(JUROR_2024,), nominees=(NOMINEE_2024,))
    await _mark_file(other.nominations[0], PNG + OTHER_FILE.encode())

    setup = await scoring_edition(
        year=2025, jurors=JURORS_2025, nominees=NOMINEES_2025, rules=JuryRules(appointment_document="No 1/2025")
    )
    for number, nomination_id in enumerate(setup.nominations, start=1):
        await _mark_file(nomination_id, file_of(number))
    await set_quota(setup.edition.id, "B", mentions=1)
    olena, bohdan, _ = setup.nominations
    ewa, marta, tomasz = setup.jurors
    detection = await DetectedConflict.select(DetectedConflict.id).where(
        (DetectedConflict.juror == tomasz.id) & (DetectedConflict.nomination == bohdan)
    )
    assert len(detection) == 1, "Tomasz's mail domain is the nominator's: detection must find it"
    await conflict_declarations.decide_detection(
        actor_id=setup.clerk.id, detection_id=detection[0]["id"], confirm=True, reason=""
    )
    for juror in (ewa, marta):
        await declare_none(setup, juror)
    await declare_none(setup, tomasz, except_for=(bohdan,))
    await conflict_declarations.declare(
        juror_id=tomasz.id,
        edition_id=setup.edition.id,
        nomination_id=bohdan,
        conflicted=True,
        kind=ConflictKind.FAMILY,
    )
    for juror, values in zip(setup.jurors, SCORES, strict=True):
        for number, (nomination_id, value) in enumerate(zip(setup.nominations, values, strict=True), start=1):
            if value is not None:
                await submit_scores(
                    setup,
                    juror,
                    nomination_id,
                    value,
                    comment=comment_of(juror, number),
                    remark=comment_of(juror, number, "REMARK"),
                )
    await scoring_round.close_scoring(chair_id=ewa.id, edition_id=setup.edition.id)
    title = await deliberation.propose(
        base_url=BASE, chair_id=ewa.id, edition_id=setup.edition.id, nomination_id=olena, distinction=Distinction.TITLE
    )
    mention = await deliberation.propose(
        base_url=BASE,
        chair_id=ewa.id,
        edition_id=setup.edition.id,
        nomination_id=bohdan,
        distinction=Distinction.MENTION,
    )
    for juror in (ewa, marta, tomasz):
        await deliberation.cast_vote(juror_id=juror.id, proposal_id=title, choice=VoteChoice.FOR)
    await deliberation.cast_vote(juror_id=ewa.id, proposal_id=mention, choice=VoteChoice.FOR)

    attachment = await Attachment.select(Attachment.id).where(Attachment.nomination == bohdan).first()
    assert attachment is not None
    numbered = dict(zip(setup.nominations, NOMINEES_2025, strict=True))
    secrets = Secrets(
        contacts={n: _contacts(fields) for n, fields in numbered.items()},
        names={n: str(fields["nominee_name"]) for n, fields in numbered.items()},
        texts={n: (*_texts(numbered[n]), file_marker(number)) for number, n in enumerate(setup.nominations, start=1)},
        comments={
            n: tuple(
                comment_of(juror, number, kind)
                for juror, values in zip(setup.jurors, SCORES, strict=True)
                if values[number - 1] is not None
                for kind in ("COMMENT", "REMARK")
            )
            for number, n in enumerate(setup.nominations, start=1)
        },
        results=("7.67", "7.33"),
        other_contacts=_contacts(NOMINEE_2024),
        other_texts=(str(NOMINEE_2024["nominee_name"]), *_texts(NOMINEE_2024), OTHER_FILE),
        scheduled=(SCHEDULED_LAUREATE[0], SCHEDULED_LAUREATE[1].split()[0], SCHEDULED_PICTURE),
    )
    # Clerks must use a second factor: the clerk has one, a new colleague has yet to set it up.
    totp_secret = second_factor.new_totp_secret()
    await User.update({User.totp_secret: totp_secret, User.totp_last_step: 0}).where(User.id == setup.clerk.id)
    enrolling = await make_user("nina.nowak@staff.example.net", (Role.CLERK,), name="Nina Nowak")
    await second_factor.set_totp_required(actor_id=admin.id, role=Role.CLERK, required=True)
    return World(
        scored=setup,
        admin=admin,
        other_juror=other.jurors[0],
        other_edition_id=other.edition.id,
        conflicted_nomination=bohdan,
        attachment_id=attachment["id"],
        detection_id=detection[0]["id"],
        proposal_id=mention,
        manage_token=await _link(str(NOMINEES_2025[1]["nominator_email"]), "n"),
        laureate_id=laureate["id"],
        laureate_slug=slug,
        scheduled_year=2023,
        public_laureate=PUBLIC_LAUREATE,
        clerk_totp_secret=totp_secret,
        enrolling_clerk=enrolling,
        secrets=secrets,
    )


def _contacts(fields: dict[str, object]) -> tuple[str, ...]:
    return tuple(str(fields[key]) for key in CONTACT_FIELDS if key in fields)


def _texts(fields: dict[str, object]) -> tuple[str, ...]:
    texts = fields.get("texts")
    assert isinstance(texts, dict)
    return tuple(str(text).split()[0] for text in texts.values())

"""Inviting several jurors from a pasted list: one juror per line, parsed, previewed, then done.

A line is "Name <email>", "email, name" (or "name, email"), or "name; email; organisation;
organisation…" (tabs, as pasted from a spreadsheet, count as semicolons). Parsing is pure;
``plan`` says what each line would do without changing anything; ``invite_list`` does it,
each line through ``jury.invite_and_appoint`` or ``jury.appoint`` in its own transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from ambassador.domain import accounts, bulk, jury
from ambassador.domain.editions import get_edition
from ambassador.enums import LANGUAGES, Role
from ambassador.errors import N_, InvalidInput, Message, NotAllowed
from ambassador.tables import JuryMember, User
from ambassador.text import clean_line

MAX_LINES = 50
MAX_LINE = 500
_ANGLE = re.compile(r"^(?P<name>[^<>]*)<(?P<email>[^<>]*)>(?P<rest>[^<>]*)$")

NO_EMAIL = N_("No email address on this line.")
NO_NAME = N_("No name on this line.")
LINE_TOO_LONG = N_("The line is longer than %(limit)d characters.")
REPEATED = N_("This email is already on an earlier line.")
ALREADY_MEMBER = N_("This person is already on the jury.")
INACTIVE = N_("This account is switched off.")


class Action(StrEnum):
    INVITE = "invite"  # a new juror account is created, invited and appointed
    APPOINT = "appoint"  # an existing juror account is appointed
    MEMBER = "member"  # already on this jury: nothing to do
    INVALID = "invalid"  # the line cannot be used: ``reason`` says why


@dataclass(frozen=True)
class Line:
    number: int  # 1-based, counting every line of the pasted text
    text: str
    email: str = ""
    name: str = ""
    organisations: tuple[str, ...] = ()
    problem: Message | None = None

    @property
    def label(self) -> str:
        return self.email or self.text[:60]


def _parts(text: str) -> tuple[str, str, list[str]]:
    """(email, name, organisations) as written, before any check."""
    if found := _ANGLE.match(text):
        rest = [p for p in found["rest"].strip(" ,;").split(";") if p.strip()]
        return found["email"].strip(), found["name"].strip(' ,;\t"'), rest
    if ";" in text:
        fields = [p.strip() for p in text.split(";")]
        at = next((i for i, p in enumerate(fields) if "@" in p), None)
        if at is None:
            return "", fields[0], fields[1:]
        others = fields[:at] + fields[at + 1 :]
        return fields[at], others[0] if others else "", others[1:]
    if "," in text:
        first, second = (p.strip() for p in text.split(",", 1))
        return (first, second, []) if "@" in first or "@" not in second else (second, first, [])
    return (text, "", []) if "@" in text else ("", text, [])


def parse_line(number: int, text: str) -> Line:
    """One pasted line as a juror: their email, name and organisations, or the problem."""
    text = clean_line(text.replace("\t", "; "))
    if len(text) > MAX_LINE:
        return Line(number, text[:MAX_LINE], problem=Message(LINE_TOO_LONG, limit=MAX_LINE))
    raw_email, raw_name, raw_organisations = _parts(text)
    email = accounts.normalise_email(raw_email)
    name = clean_line(raw_name)
    organisations = tuple(o for o in (clean_line(x) for x in raw_organisations) if o)
    found = Line(number, text, email, name, organisations)
    if not email:
        return Line(number, text, name=name, problem=Message(NO_EMAIL))
    if problem := accounts.email_error(email):
        return Line(number, text, email, name, organisations, Message(problem))
    if not name:
        return Line(number, text, email, problem=Message(NO_NAME))
    if problem := accounts.name_error(name):
        return Line(number, text, email, name, organisations, Message(problem, **getattr(problem, "params", {})))
    return found


def parse_list(text: str) -> list[Line]:
    """Every non-blank line parsed; a repeated email is a problem of its later line.

    No line, or more than ``MAX_LINES`` of them, refuses the whole list.
    """
    lines = [(n, raw) for n, raw in enumerate(text.splitlines(), start=1) if raw.strip()]
    if not lines:
        raise InvalidInput({"list": N_("Paste at least one juror, one per line.")})
    if len(lines) > MAX_LINES:
        raise InvalidInput({"list": Message(N_("At most %(limit)d lines at once."), limit=MAX_LINES)})
    parsed: list[Line] = []
    seen: set[str] = set()
    for number, raw in lines:
        line = parse_line(number, raw)
        if line.problem is None and line.email in seen:
            line = Line(line.number, line.text, line.email, line.name, line.organisations, Message(REPEATED))
        seen.add(line.email)
        parsed.append(line)
    return parsed


@dataclass(frozen=True)
class Planned:
    line: Line
    action: Action
    user_id: int | None = None  # the existing account, for APPOINT and MEMBER
    reason: Message | None = None  # for INVALID


async def plan(edition_id: int, text: str) -> list[Planned]:
    """What each line would do on this edition's jury now; nothing changes."""
    edition = await get_edition(edition_id)
    if edition.state not in jury.SETUP_STATES:
        raise NotAllowed(N_("Jurors are appointed before scoring opens."))
    lines = parse_list(text)
    emails = [line.email for line in lines if line.problem is None]
    users = {
        str(r["email"]): r
        for r in await User.select(User.id, User.email, User.is_active).where(User.email.is_in(emails or [""]))
    }
    ids = [int(r["id"]) for r in users.values()] or [0]
    members = {
        int(r["user"])
        for r in await JuryMember.select(JuryMember.user).where(
            (JuryMember.edition == edition_id) & JuryMember.user.is_in(ids)
        )
    }
    planned: list[Planned] = []
    for line in lines:
        user = users.get(line.email)
        if line.problem is not None:
            planned.append(Planned(line, Action.INVALID, reason=line.problem))
        elif user is None:
            planned.append(Planned(line, Action.INVITE))
        elif int(user["id"]) in members:
            planned.append(Planned(line, Action.MEMBER, int(user["id"])))
        elif not user["is_active"]:
            planned.append(Planned(line, Action.INVALID, int(user["id"]), Message(INACTIVE)))
        else:
            account = await accounts.get_account(int(user["id"]))
            if account is None or not account.has_role(Role.JUROR):
                planned.append(Planned(line, Action.INVALID, int(user["id"]), Message(jury.NotAJuror.message)))
            else:
                planned.append(Planned(line, Action.APPOINT, account.id))
    return planned


async def invite_list(
    *, actor_id: int, edition_id: int, text: str, language: str, base_url: str, lifetime_seconds: int
) -> bulk.Outcome:
    """Do what ``plan`` shows, line by line: invite and appoint new jurors (mails in
    ``language``), appoint existing ones; members and invalid lines are named, unchanged."""
    if language not in LANGUAGES:
        raise InvalidInput({"language": N_("Choose one of the offered languages.")})
    # The plan is made afresh: another clerk may have appointed someone since the preview.
    planned = await plan(edition_id, text)

    async def one(item: Planned) -> object:
        line = item.line
        organisations = "\n".join(line.organisations)
        if item.action == Action.APPOINT and item.user_id is not None:
            return await jury.appoint(
                actor_id=actor_id,
                edition_id=edition_id,
                user_id=item.user_id,
                organisations=organisations,
                base_url=base_url,
            )
        return await jury.invite_and_appoint(
            actor_id=actor_id,
            edition_id=edition_id,
            email=line.email,
            display_name=line.name,
            language=language,
            organisations=organisations,
            base_url=base_url,
            lifetime_seconds=lifetime_seconds,
        )

    doable = [(p.line.label, p) for p in planned if p.action in (Action.INVITE, Action.APPOINT)]
    done = await bulk.apply(doable, one)
    left = tuple(
        bulk.Failure(p.line.label, p.reason if p.reason is not None else Message(ALREADY_MEMBER))
        for p in planned
        if p.action in (Action.MEMBER, Action.INVALID)
    )
    return bulk.Outcome(done.done, (*done.failed, *left))

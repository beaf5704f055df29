"""ASVS 5.0 chapter V2 (validation and business logic): the controls of docs/security.md's
table that no other test file traces. Each test fails when its control is removed.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from ambassador.domain import nomination_rules, submission
from ambassador.domain.editions import EditionView
from ambassador.domain.nominations import NominationData, Upload
from ambassador.errors import InvalidInput
from ambassador.tables import Nomination
from tests.factories import PDF, make_edition, nomination_data

BASE = "http://testserver.local"


async def _stored(edition: EditionView, key: str, data: NominationData) -> dict[str, Any]:
    submitted = await submission.submit(edition=edition, data=data, uploads=[], submission_key=key, base_url=BASE)
    row = await Nomination.select().where(Nomination.id == submitted.nomination_id).first()
    assert row is not None
    return row


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("links", "javascript:alert(1)"),
        ("links", '"><script>alert(1)</script>'),
        ("links", "ftp://example.org/file"),
        ("links", "\n".join(f"https://example.org/{n}" for n in range(11))),
        ("nominee_phone", "+48 12 <b>345</b>"),
        ("nominee_phone", "call me maybe"),
        ("nominator_email", "not an address"),
        ("nominee_email", "a@b@example.org"),
        ("category", "Z"),
        ("nominee_name", "x" * 201),
    ],
)
async def test_each_field_is_checked_against_its_allow_list(field: str, value: str) -> None:
    """ASVS 2.2.1, 2.2.2: the domain (not the form) checks each field against its pattern,
    allow-list or limit, and names the field it refuses."""
    edition = await make_edition()
    data = nomination_data(edition, **{field: value})

    with pytest.raises(InvalidInput) as refused:
        nomination_rules.prepare(edition, data, [])

    assert list(refused.value.errors) == [field]


async def test_an_organisation_needs_a_known_kind_an_http_site_and_a_ten_digit_krs() -> None:
    """ASVS 2.2.1: category A's own fields are allow-listed (kind), patterned (website,
    KRS number), each refusal named."""
    edition = await make_edition()
    data = nomination_data(
        edition,
        category="A",
        nominee_name="Fundacja Most",
        organisation_kind="cult",
        organisation_website="javascript:alert(1)",
        registry_number="12345",
    )

    with pytest.raises(InvalidInput) as refused:
        nomination_rules.prepare(edition, data, [])

    assert sorted(refused.value.errors) == ["organisation_kind", "organisation_website", "registry_number"]


async def test_fields_of_the_other_category_are_dropped_and_minors_exist_only_in_category_b() -> None:
    """ASVS 2.2.3: combinations are made consistent before saving: a person (category B)
    keeps no organisation fields, an organisation (category A) is never a minor, and texts
    for criteria of another edition are dropped."""
    edition = await make_edition()
    foreign_criterion = 999_999
    person = nomination_data(
        edition,
        organisation_kind="ngo",
        organisation_website="https://example.org",
        registry_number="0000123456",
        descriptions={edition.criteria[0].id: "Reads to children.", foreign_criterion: "Smuggled text."},
    )
    organisation = nomination_data(
        edition,
        category="A",
        nominee_name="Fundacja Most",
        nominee_is_minor=True,
        organisation_kind="ngo",
        nominee_email="",
    )

    b = await _stored(edition, "person-key-0000001", person)
    a = await _stored(edition, "organisation-key-01", organisation)

    assert (b["organisation_kind"], b["organisation_website"], b["registry_number"]) == ("", "", "")
    assert "Smuggled text." not in str(b["descriptions"])
    assert (a["category"], a["nominee_is_minor"], a["organisation_kind"]) == ("A", False, "ngo")


async def test_a_minor_may_share_the_guardians_email_but_an_adult_may_not_nominate_themselves() -> None:
    """ASVS 2.2.3: the self-nomination rule and its guardian exception: the same email on
    both sides is refused for an adult and accepted for a minor (the guardian's address)."""
    edition = await make_edition()
    adult = nomination_data(edition, nominee_email="anna@example.org", nominee_name="Olena Kovalenko")
    child = nomination_data(edition, nominee_email="anna@example.org", nominee_is_minor=True, nominee_name="Olek Nowak")

    with pytest.raises(InvalidInput) as refused:
        nomination_rules.prepare(edition, adult, [])
    accepted, _ = nomination_rules.prepare(edition, child, [])

    assert list(refused.value.errors) == ["nominee_email", "nominator_email"]
    assert (accepted.nominee_is_minor, accepted.nominee_email) == (True, "anna@example.org")


async def test_reference_numbers_stay_unique_and_gapless_under_concurrent_submissions() -> None:
    """ASVS 2.3.4: twelve nominations submitted at once get twelve different reference
    numbers, 0001 to 0012, from the edition row's atomic counter (no double booking)."""
    edition = await make_edition()

    async def send(n: int) -> submission.Submitted:
        return await submission.submit(
            edition=edition,
            data=nomination_data(edition, nominee_name=f"Nominee Number{n}", nominee_email=f"n{n}@example.org"),
            uploads=[Upload("a.pdf", PDF)],
            submission_key=f"concurrent-key-{n:04d}",
            base_url=BASE,
        )

    submitted = await asyncio.gather(*(send(n) for n in range(12)))

    references = sorted(s.reference for s in submitted)
    assert references == [f"{edition.activity_year}/{n:04d}" for n in range(1, 13)]
    assert await Nomination.count() == 12

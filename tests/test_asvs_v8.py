"""ASVS 5.0 chapter V8 (authorisation): the controls of docs/security.md's table that no
other test file traces. Each test fails when its control is removed.

The function- and object-level rules (8.2.1, 8.2.2) and the jurors' field rules are tested
route by route and role by role in tests/test_authorization_matrix.py.
"""

from __future__ import annotations

import re

from ambassador.tables import Laureate, Nomination, Score, ScoreSheet
from tests.conftest import Client
from tests.helpers import csrf_token
from tests.test_approval_pages import decided_edition

EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
PUBLIC_OUTPUTS = (
    "/laureates",
    "/laureates.json",
    "/laureates.csv",
    "/api/v1/laureates",
    "/api/v1/editions",
    "/feed.atom",
    "/sitemap.xml",
)
CONTACT_FIELDS = (
    Nomination.nominee_email,
    Nomination.nominee_phone,
    Nomination.nominator_name,
    Nomination.nominator_email,
    Nomination.nominator_phone,
    Nomination.nominator_organisation,
    Nomination.nominator_relation,
)


async def test_published_open_data_carries_no_contact_data_nominators_or_scores(client: Client) -> None:
    """ASVS 8.2.3, 8.1.2: after publication every public output (archive pages, CSV, JSON,
    API, feed, sitemap, laureate and edition pages) shows the laureates but none of the
    nominations' contact data, nominators, jurors' scores or comments."""
    setup, _, _ = await decided_edition(client)
    await Nomination.update(
        {Nomination.nominee_phone: "+48 600 100 200", Nomination.nominator_phone: "+48 600 300 400"}
    ).where(Nomination.edition == setup.edition.id)
    await Score.update({Score.comment: "SECRET-SCORE-COMMENT"}, force=True)
    await ScoreSheet.update({ScoreSheet.comment: "SECRET-SHEET-COMMENT"}, force=True)
    published = await client.post(
        f"/staff/editions/{setup.edition.id}/publication",
        data={"published_on": "", "published_time": "", "acknowledged": "1", "_csrf_token": await csrf_token(client)},
    )
    assert published.status_code == 303
    await client.post("/logout", data={"_csrf_token": await csrf_token(client)})

    rows = await Nomination.select(*CONTACT_FIELDS).where(Nomination.edition == setup.edition.id)
    private = {str(value) for row in rows for value in row.values() if value}
    private |= {"SECRET-SCORE-COMMENT", "SECRET-SHEET-COMMENT"}
    archive = await client.get("/laureates", follow_redirects=True)
    assert "Olena Kovalenko" in archive.text
    slugs = [row["slug"] for row in await Laureate.select(Laureate.slug).where(Laureate.edition == setup.edition.id)]
    assert slugs != []
    pages = [*PUBLIC_OUTPUTS, f"/editions/{setup.edition.activity_year}", *(f"/laureates/{slug}" for slug in slugs)]

    leaks = {}
    for path in pages:
        response = await client.get(path, follow_redirects=True)
        assert response.status_code == 200, path
        found = sorted(s for s in private if s in response.text) + EMAIL.findall(response.text)
        if found:
            leaks[path] = found
    assert leaks == {}
    assert {"Anna Nowak", "anna@example.org", "+48 600 300 400"} <= private

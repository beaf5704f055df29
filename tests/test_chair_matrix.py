"""The chair sees the conflict matrix read-only; other jurors do not see it at all."""

from __future__ import annotations

from ambassador.domain import conflict_declarations
from ambassador.enums import ConflictKind
from tests.clerk_factories import english
from tests.conftest import Client
from tests.helpers import login
from tests.jury_factories import declare_none, scoring_edition


async def test_the_chair_sees_the_matrix_read_only_and_other_jurors_get_403(client: Client) -> None:
    setup = await scoring_edition()
    member = setup.jurors[1]
    await declare_none(setup, setup.chair)
    await conflict_declarations.declare(
        juror_id=member.id,
        edition_id=setup.edition.id,
        nomination_id=setup.nominations[0],
        conflicted=True,
        kind=ConflictKind.FAMILY,
    )
    english(client)
    await login(client, setup.chair.email)

    page = await client.get(f"/jury/editions/{setup.edition.id}/matrix")

    assert page.status_code == 200
    assert member.display_name in page.text
    assert "family" in page.text.lower()
    assert "/conflicts/pin" not in page.text
    assert "/conflicts/detections/" not in page.text
    assert "/staff/nominations/" not in page.text
    client.cookies.clear()
    english(client)
    await login(client, member.email)
    assert (await client.get(f"/jury/editions/{setup.edition.id}/matrix")).status_code == 403

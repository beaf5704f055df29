"""A domain ``NotFound`` anywhere in a handler is the localized 404 page (JSON when asked), as before."""

from __future__ import annotations

from ambassador.enums import Role
from tests.clerk_factories import clerk_logged_in, open_edition
from tests.conftest import Client
from tests.factories import make_user
from tests.helpers import login, post_form

MISSING = 987654


async def test_unknown_ids_on_staff_pages_answer_the_polish_404_page(client: Client) -> None:
    clerk = await clerk_logged_in(client)
    edition = await open_edition(clerk_id=clerk.id)
    client.headers["accept-language"] = "pl"

    pages = [
        await client.get(f"/staff/editions/{MISSING}/jury"),
        await client.get(f"/staff/nominations/{MISSING}"),
        await client.get(f"/staff/laureates/{MISSING}"),
        await post_form(client, f"/staff/editions/{edition.id}/jury/{MISSING}/remove", {}),
    ]

    assert [page.status_code for page in pages] == [404] * 4
    assert ["Nie znaleziono strony" in page.text for page in pages] == [True] * 4
    assert ["Traceback" in page.text for page in pages] == [False] * 4


async def test_an_unknown_edition_on_a_jury_page_answers_404(client: Client) -> None:
    await make_user("juror@example.org", (Role.JUROR,))
    await login(client, "juror@example.org")

    page = await client.get(f"/jury/editions/{MISSING}", headers={"accept-language": "en"})

    assert page.status_code == 404
    assert "Page not found" in page.text


async def test_a_client_asking_for_json_gets_the_404_as_json(client: Client) -> None:
    await clerk_logged_in(client)

    response = await client.get(
        f"/staff/laureates/{MISSING}", headers={"accept": "application/json", "accept-language": "en"}
    )

    assert response.status_code == 404
    assert response.json() == {
        "status": 404,
        "title": "Page not found",
        "detail": "The address may be mistyped, or the page has moved.",
    }

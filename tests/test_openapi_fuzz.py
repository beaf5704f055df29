"""The open-data API fuzzed against its own OpenAPI document: schemathesis, in process, over ASGI.

Every operation in /schema/openapi.json gets at least 100 generated requests that fit the
document and 100 that do not (what a parameter-less operation can vary is soon exhausted).
Each answer must not be a server error, must have a status and a content type the document
declares for the operation, and a body that fits the declared schema. Hypothesis runs
derandomized and without its example database, so a run is the same on every machine.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from ambassador.db import utcnow
from ambassador.enums import EditionState
from ambassador.settings import Settings
from ambassador.web.app import create_app
from tests.archive_factories import add_laureate, archive_edition

EXAMPLES = 100
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
NAMES = [
    "Olena Kovalenko",
    "Fundacja <script>alert(1)</script> & \"Dom\" 'Kultur'",
    "Jaśkowiak Łucja",
    "Ахмед Алієв",
    "田中さん",
    "\u202egnp.exe",
    "𠜎𠜱𠝹",
    "O'Brien; DROP TABLE laureate; --",
]


async def archive_to_fuzz() -> None:
    """Two public editions (more than one page of laureates), one withdrawn, and one embargoed."""
    for year in (2023, 2024):
        edition_id = await archive_edition(year)
        for number in range(14):
            name = f"{NAMES[number % len(NAMES)]} {year}-{number}"
            await add_laureate(
                edition_id,
                name,
                slug=f"laureate-{year}-{number}",
                category="AB"[number % 2],
                distinction=("title", "mention")[number % 3 == 0],
                citation_pl=f"Za {name}.",
                citation_uk=f"За {name}." if number % 2 else "",
                source_url="https://example.org/uchwala" if number % 4 == 0 else "",
                withdrawn_at=utcnow() if number == 5 else None,
                withdrawn_reason="Withdrawn." if number == 5 else "",
            )
    embargoed = await archive_edition(2025, state=EditionState.PUBLISHED, published_at=utcnow() + dt.timedelta(days=9))
    await add_laureate(embargoed, "Not Yet Public", slug="not-yet-public")


Operation = APIOperation[Any, Any, Any, Any]


def fuzz(operation: Operation, mode: GenerationMode, sent: Counter[tuple[str, GenerationMode]]) -> None:
    """Hypothesis sends up to EXAMPLES generated requests to the operation and checks each answer."""

    @hypothesis_settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def one_request(case: Case[Operation]) -> None:
        sent[(case.operation.path, mode)] += 1
        response = case.call_and_validate(checks=CHECKS)
        assert "Not Yet Public" not in response.text  # the embargo holds, whatever is asked

    one_request()


async def test_the_open_data_api_keeps_to_its_openapi_document(settings: Settings) -> None:
    await archive_to_fuzz()
    app = create_app(settings)
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", app)
    operations: list[Operation] = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operations.append(result.ok())
    assert sorted(operation.path for operation in operations) == [
        "/api/v1/editions",
        "/api/v1/laureates",
        "/laureates.json",
    ]
    sent: Counter[tuple[str, GenerationMode]] = Counter()
    try:
        for operation in operations:
            fuzz(operation, GenerationMode.POSITIVE, sent)
            if len(operation.query):  # without parameters nothing can be sent that does not fit
                fuzz(operation, GenerationMode.NEGATIVE, sent)
    finally:
        asgi.shutdown_lifespans()
    assert sent[("/api/v1/laureates", GenerationMode.POSITIVE)] >= EXAMPLES, sent
    assert sent[("/api/v1/laureates", GenerationMode.NEGATIVE)] >= EXAMPLES, sent
    assert sorted(path for path, _ in sent) == sorted([*(o.path for o in operations), "/api/v1/laureates"]), sent

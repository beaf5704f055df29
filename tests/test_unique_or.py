"""``db.unique_or``: a duplicate the database refuses becomes the given domain error, after the rollback."""

from __future__ import annotations

import pytest

from ambassador.db import is_unique_violation, unique_or, write_transaction
from ambassador.errors import NotAllowed
from ambassador.tables import KeyValue


async def _put(key: str) -> None:
    await KeyValue(key=key, value=b"", expires_at=None).save()


async def test_a_duplicate_becomes_the_domain_error_and_nothing_of_the_write_stays() -> None:
    async with unique_or(NotAllowed("taken")), write_transaction():
        await _put("one")
    with pytest.raises(NotAllowed) as refused:
        async with unique_or(NotAllowed("taken")), write_transaction():
            await _put("two")
            await _put("one")
    assert refused.value.message == "taken"
    cause = refused.value.__cause__
    assert cause is not None
    assert is_unique_violation(cause) is True
    assert sorted(r["key"] for r in await KeyValue.select(KeyValue.key)) == ["one"]


async def test_other_errors_pass_unchanged() -> None:
    with pytest.raises(ValueError, match="not a duplicate"):
        async with unique_or(NotAllowed("taken")), write_transaction():
            await _put("three")
            raise ValueError("not a duplicate")
    assert await KeyValue.count() == 0

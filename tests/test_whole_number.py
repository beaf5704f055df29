"""Number fields of the staff forms are read one way: ASCII digits, or the domain's message."""

from __future__ import annotations

import pytest

from ambassador.web.forms import NOT_A_NUMBER, whole_number


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("12", 12),
        (" 7 ", 7),
        ("0", 0),
        ("999999", 999999),
        ("1234567", NOT_A_NUMBER),
        ("1.5", NOT_A_NUMBER),
        ("-3", NOT_A_NUMBER),
        ("1_000", NOT_A_NUMBER),
        ("١٢", NOT_A_NUMBER),  # Arabic-Indic digits: int() would read 12
        ("１２", NOT_A_NUMBER),  # full-width digits
        ("twelve", NOT_A_NUMBER),
    ],
)
def test_a_typed_number_is_read_strictly(typed: str, read: int) -> None:
    assert whole_number(typed) == read


def test_nothing_typed_is_the_fields_default() -> None:
    assert whole_number("  ", blank=1) == 1
    assert whole_number("") == NOT_A_NUMBER

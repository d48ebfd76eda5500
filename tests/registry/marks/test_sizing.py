"""The sizes a user is offered (20-100 mm, 150-1200 dpi) against what the renderer can draw."""

from __future__ import annotations

import math

import pytest

from registry.errors import InvalidInputError
from registry.marks import (
    DEFAULT_SIZE_MM,
    MAX_DPI,
    MAX_SIZE_MM,
    MIN_DPI,
    MIN_OFFERED_SIZE_MM,
    MIN_SIZE_MM,
    check_mark_size,
    validate_size,
)


def test_offered_sizes_start_above_the_smallest_the_renderer_draws() -> None:
    # Issue 13's camera simulation: 20 mm decodes at 66-98%, 15 mm at 32-84%.
    assert MIN_SIZE_MM < MIN_OFFERED_SIZE_MM == 20 < DEFAULT_SIZE_MM == 25
    for under in (MIN_SIZE_MM, 15, 19.99):
        assert validate_size(under, MIN_DPI) == (under, MIN_DPI)  # it would still decode
        with pytest.raises(InvalidInputError) as err:
            check_mark_size(under, MIN_DPI)  # but a phone reads it only from close up
        assert [e.field for e in err.value.errors] == ["size_mm"]
        assert "from 20 to 100" in err.value.detail
        assert "close scans only" in err.value.errors[0].message


def test_the_offered_limits_are_inclusive() -> None:
    assert check_mark_size(MIN_OFFERED_SIZE_MM, MIN_DPI) == (20.0, 150)
    assert check_mark_size(MAX_SIZE_MM, MAX_DPI) == (100.0, 1200)


@pytest.mark.parametrize(
    ("size_mm", "dpi", "field"),
    [
        (100.5, 600, "size_mm"),
        (math.nan, 600, "size_mm"),
        (math.inf, 600, "size_mm"),
        (25, 149, "dpi"),
        (25, 1201, "dpi"),
        (25, 300.5, "dpi"),
    ],
)
def test_sizes_outside_the_offer_name_the_field(size_mm: float, dpi: int, field: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        check_mark_size(size_mm, dpi)
    assert [e.field for e in err.value.errors] == [field]

"""The GB/T 27922-2011 scheme: score to level, as data."""

from __future__ import annotations

from decimal import Decimal

import pytest

from signing.errors import InvalidPayloadError
from signing.scheme import GB_T_27922_2011, SCHEMES, StarLevel


@pytest.mark.parametrize(
    ("score", "level"),
    [
        ("70", StarLevel.COMPLIANT),
        ("79.9", StarLevel.COMPLIANT),
        ("80", StarLevel.THREE_STAR),
        ("89.9", StarLevel.THREE_STAR),
        ("90", StarLevel.FOUR_STAR),
        ("94.9", StarLevel.FOUR_STAR),
        ("95", StarLevel.FIVE_STAR),
        ("100", StarLevel.FIVE_STAR),
    ],
)
def test_level_boundaries(score: str, level: StarLevel) -> None:
    assert GB_T_27922_2011.level_for(Decimal(score)) is level


@pytest.mark.parametrize(
    ("score", "message"),
    [
        ("69.9", "below 70, the lowest score"),
        ("0", "below 70"),
        ("100.1", "above the maximum 100"),
        ("NaN", "not a finite number"),
        ("Infinity", "not a finite number"),
    ],
)
def test_scores_without_a_level(score: str, message: str) -> None:
    with pytest.raises(InvalidPayloadError, match=message) as caught:
        GB_T_27922_2011.level_for(Decimal(score))
    assert caught.value.problems[0].field == "score"


def test_the_scheme_is_data() -> None:
    scheme = SCHEMES["GB/T 27922-2011"]
    assert scheme is GB_T_27922_2011
    assert [(str(m), lvl.value) for m, lvl in scheme.thresholds] == [
        ("95", "five_star"),
        ("90", "four_star"),
        ("80", "three_star"),
        ("70", "compliant"),
    ]
    assert (scheme.max_score, scheme.validity_years) == (100, 3)
    assert (scheme.surveillance_interval_months, scheme.surveillance_grace_months) == (12, 3)
    assert scheme.surveillance_overdue_months == 15
    assert scheme.min_score == 70


def test_levels_in_words_and_stars() -> None:
    assert [(lvl.value, lvl.zh, lvl.en, lvl.stars, lvl.rank) for lvl in StarLevel] == [
        ("compliant", "达标级", "Compliant", 0, 1),
        ("three_star", "三星级", "Three-star", 3, 2),
        ("four_star", "四星级", "Four-star", 4, 3),
        ("five_star", "五星级", "Five-star", 5, 4),
    ]

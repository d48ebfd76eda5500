"""Certification schemes: thresholds and periods as data (PRODUCT §1).

GB/T 27922-2011 (《商品售后服务评价体系》) scores an audit out of 100 and maps
the score to a star level. The thresholds, the 3-year validity and the 12-month
surveillance cycle (with 3 months' grace) are fields of a versioned `Scheme`,
not literals scattered in code, so a revised standard is a new `Scheme`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType

from signing.errors import InvalidPayloadError
from signing.instants import default_valid_until

__all__ = ["GB_T_27922_2011", "SCHEMES", "Scheme", "StarLevel"]


class StarLevel(StrEnum):
    """Star level of a certificate, lowest first.

    ``stars`` is the number of stars a mark shows: the levels are named three,
    four and five stars; the entry level 达标级 ("compliant") has no stars, so
    it shows 0 rather than pretending to be one or two stars. ``rank`` orders
    the levels (1 = compliant ... 4 = five_star) for ``min_level`` checks.
    """

    COMPLIANT = "compliant"
    THREE_STAR = "three_star"
    FOUR_STAR = "four_star"
    FIVE_STAR = "five_star"

    @property
    def rank(self) -> int:
        """1 for compliant up to 4 for five_star."""
        return _RANK[self]

    @property
    def stars(self) -> int:
        """Stars shown on a mark: 0, 3, 4 or 5."""
        return _STARS[self]

    @property
    def zh(self) -> str:
        """The Chinese name, e.g. 五星级."""
        return _ZH[self]

    @property
    def en(self) -> str:
        """The English name, e.g. Five-star."""
        return _EN[self]


_RANK = {
    StarLevel.COMPLIANT: 1,
    StarLevel.THREE_STAR: 2,
    StarLevel.FOUR_STAR: 3,
    StarLevel.FIVE_STAR: 4,
}
_STARS = {
    StarLevel.COMPLIANT: 0,
    StarLevel.THREE_STAR: 3,
    StarLevel.FOUR_STAR: 4,
    StarLevel.FIVE_STAR: 5,
}
_ZH = {
    StarLevel.COMPLIANT: "达标级",
    StarLevel.THREE_STAR: "三星级",
    StarLevel.FOUR_STAR: "四星级",
    StarLevel.FIVE_STAR: "五星级",
}
_EN = {
    StarLevel.COMPLIANT: "Compliant",
    StarLevel.THREE_STAR: "Three-star",
    StarLevel.FOUR_STAR: "Four-star",
    StarLevel.FIVE_STAR: "Five-star",
}


@dataclass(frozen=True, slots=True)
class Scheme:
    """A versioned certification scheme.

    ``thresholds`` are ``(minimum score, level)`` pairs, highest first: a score
    gets the first level whose minimum it reaches. Below the last minimum no
    certificate is issued.
    """

    id: str
    thresholds: tuple[tuple[Decimal, StarLevel], ...]
    max_score: Decimal = Decimal(100)
    validity_years: int = 3
    surveillance_interval_months: int = 12
    surveillance_grace_months: int = 3

    @property
    def min_score(self) -> Decimal:
        """The lowest score that earns a certificate."""
        return self.thresholds[-1][0]

    @property
    def surveillance_overdue_months(self) -> int:
        """Months after the last audit when surveillance counts as overdue (12 + 3)."""
        return self.surveillance_interval_months + self.surveillance_grace_months

    def level_for(self, score: Decimal) -> StarLevel:
        """The star level a score earns.

        Raises:
            InvalidPayloadError: (field ``score``) the score is not a finite
                number, is below the lowest threshold (no certificate) or above
                ``max_score``.
        """
        if not isinstance(score, Decimal) or not score.is_finite():
            raise InvalidPayloadError.single("score", f"{score!r} is not a finite number")
        if score > self.max_score:
            raise InvalidPayloadError.single(
                "score", f"{score} is above the maximum {self.max_score} of {self.id}"
            )
        for minimum, level in self.thresholds:
            if score >= minimum:
                return level
        raise InvalidPayloadError.single(
            "score",
            f"{score} is below {self.min_score}, the lowest score that earns a "
            f"certificate under {self.id}",
        )

    def latest_valid_until(self, valid_from: date) -> date:
        """The default and latest ``valid_until``: the day before the 3rd anniversary."""
        return default_valid_until(valid_from, self.validity_years)


#: GB/T 27922-2011: 95-100 five_star, 90-<95 four_star, 80-<90 three_star, 70-<80 compliant.
GB_T_27922_2011 = Scheme(
    id="GB/T 27922-2011",
    thresholds=(
        (Decimal("95"), StarLevel.FIVE_STAR),
        (Decimal("90"), StarLevel.FOUR_STAR),
        (Decimal("80"), StarLevel.THREE_STAR),
        (Decimal("70"), StarLevel.COMPLIANT),
    ),
)

#: Every scheme a payload may name, by ``id``.
SCHEMES: Mapping[str, Scheme] = MappingProxyType({GB_T_27922_2011.id: GB_T_27922_2011})

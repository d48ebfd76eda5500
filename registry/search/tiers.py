"""The tiers of relevance a query's results come in (the table in services.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from registry.search.query import SearchQuery

__all__ = [
    "EVERYTHING",
    "IDENTIFIER",
    "NAME",
    "NAME_EN_START",
    "NAME_START",
    "TEXT",
    "Tier",
    "tiers_for",
]

_IDENTIFIER: Final = re.compile(r"[a-z0-9-]{6,40}")


@dataclass(frozen=True)
class Tier:
    rank: int
    match: str
    #: The column that orders the tier (then the number).
    key: str = "name_key"


IDENTIFIER = Tier(0, "identifier")
NAME_START = Tier(1, "name_start")
NAME_EN_START = Tier(2, "name_en_start", key="name_en_key")
NAME = Tier(3, "name")
TEXT = Tier(4, "text")
#: An empty query lists everything, in name order.
EVERYTHING = Tier(0, "all")


def tiers_for(query: SearchQuery) -> list[Tier]:
    """The tiers a query's rows are looked for in, best first."""
    if not query.terms:
        return [EVERYTHING]
    tiers = [NAME_START, NAME_EN_START, NAME, TEXT]
    if len(query.terms) == 1 and _IDENTIFIER.fullmatch(query.terms[0]):
        tiers.insert(0, IDENTIFIER)
    return tiers

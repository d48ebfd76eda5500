"""The cursor of a search page: where the page ended, tied to its query.

Opaque to clients: base64url of JSON `[fingerprint, rank, key, number]`. A
cursor this registry did not hand out for the same query and filters (see
`SearchQuery.fingerprint`) is refused with a 422 naming `cursor`.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from registry.errors import FieldError, InvalidInputError
from registry.search.tiers import TEXT

__all__ = ["Position", "decode_cursor", "encode_cursor"]


@dataclass(frozen=True)
class Position:
    """Where a page ended: the sort key of its last row."""

    rank: int
    key: str
    number: str


def encode_cursor(position: Position, *, fingerprint: str) -> str:
    data = json.dumps(
        [fingerprint, position.rank, position.key, position.number],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return base64.urlsafe_b64encode(data.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, *, fingerprint: str) -> Position:
    bad = InvalidInputError(
        "cursor is not one this registry handed out for this query",
        errors=[FieldError("cursor", "the next_cursor of the previous page of the same query")],
    )
    if len(cursor) > 2000:
        raise bad
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise bad from None
    if (
        not isinstance(data, list)
        or len(data) != 4
        or data[0] != fingerprint
        or not isinstance(data[1], int)
        or not 0 <= data[1] <= TEXT.rank
        or not isinstance(data[2], str)
        or not isinstance(data[3], str)
    ):
        raise bad
    return Position(rank=data[1], key=data[2], number=data[3])

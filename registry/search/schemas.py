"""What `GET /api/v1/certificates` answers (PRODUCT §4), for clients and `/schema`."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta, Struct

from signing.scheme import StarLevel
from signing.verdict import VerdictStatus


class SearchItem(Struct, forbid_unknown_fields=True):
    """One certificate found: what its signed documents say, and where to verify it.

    Found by the index, answered from the signed documents (docs/search.md):
    a certificate whose documents or stored copies do not hold has the status
    `signature_invalid` (or `malformed`) and null content.
    """

    number: str
    holder_name: str | None
    holder_name_en: str | None
    uscc: str | None
    province: Annotated[str | None, Meta(description="two-digit GB/T 2260 code")]
    level: StarLevel | None
    score: float | None
    status: Annotated[
        VerdictStatus,
        Meta(description="as of `as_of`; signature_invalid or malformed when it does not verify"),
    ]
    valid_from: Annotated[str | None, Meta(description="YYYY-MM-DD")]
    valid_until: Annotated[str | None, Meta(description="YYYY-MM-DD")]
    body: Annotated[str | None, Meta(description="the certification body's code")]
    match: Annotated[
        str,
        Meta(
            description="why it was found: identifier, name_start, name_en_start, name, "
            "text, or all (an empty query)"
        ),
    ]
    url: Annotated[str, Meta(description="the verification page (the QR target)")]


class SearchPage(Struct, forbid_unknown_fields=True):
    """A page of results; `next_cursor` is null on the last page."""

    items: list[SearchItem]
    next_cursor: Annotated[str | None, Meta(description="pass as `cursor` for the next page")]
    as_of: Annotated[str, Meta(description="the instant the statuses are for (RFC 3339)")]

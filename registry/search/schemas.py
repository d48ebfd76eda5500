"""What `GET /api/v1/certificates` answers (PRODUCT §4), for clients and `/schema`."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta, Struct

from signing.scheme import StarLevel
from signing.status import CertificateStatus


class SearchItem(Struct, forbid_unknown_fields=True):
    """One certificate found: the columns a result list shows, and where to verify it."""

    number: str
    holder_name: str
    holder_name_en: str | None
    uscc: str
    province: Annotated[str, Meta(description="two-digit GB/T 2260 code")]
    level: StarLevel
    score: float
    status: Annotated[CertificateStatus, Meta(description="as of `as_of`")]
    valid_from: Annotated[str, Meta(description="YYYY-MM-DD")]
    valid_until: Annotated[str, Meta(description="YYYY-MM-DD")]
    body: Annotated[str, Meta(description="the certification body's code")]
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

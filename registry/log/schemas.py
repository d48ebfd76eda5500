"""What the change feed `GET /api/v1/events` answers (PRODUCT §4), for clients and `/schema`."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta, Struct


class EventItem(Struct, forbid_unknown_fields=True, omit_defaults=True):
    """A log entry; every member about the document is read from its verified JWS.

    `status`, `revision` and `effective_at` are present when the document has
    them (a status event has all three, a certificate revision its revision, a
    key statement none). An entry that does not verify is given with
    `verified: false`, its JWS and nothing read from it.
    """

    index: Annotated[int, Meta(description="the log index (leaf index)")]
    typ: Annotated[
        str, Meta(description="starmark-cert+jws, starmark-status+jws or starmark-key+jws")
    ]
    number: Annotated[
        str | None, Meta(description="the certificate; null for a key statement or unverified")
    ]
    verified: Annotated[bool, Meta(description="the signature holds under the registry's keys")]
    recorded_at: Annotated[str, Meta(description="when the registry accepted it (RFC 3339)")]
    jws: Annotated[str, Meta(description="the compact JWS, exactly as logged")]
    status: Annotated[
        str | None,
        Meta(description="a status event's status: issued, surveillance_passed, suspended, ..."),
    ] = None
    revision: Annotated[int | None, Meta(description="the certificate revision")] = None
    effective_at: Annotated[
        str | None, Meta(description="a status event's effective time (RFC 3339)")
    ] = None


class EventPage(Struct, forbid_unknown_fields=True):
    """A page of the feed in log order; `next_cursor` is null on the last page."""

    items: list[EventItem]
    next_cursor: Annotated[str | None, Meta(description="the last index given; pass it as `after`")]

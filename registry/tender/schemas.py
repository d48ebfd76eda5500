"""What `POST /api/v1/verifications` takes and answers (PRODUCT §4), for `/schema`."""

from __future__ import annotations

from typing import Annotated

from msgspec import UNSET, Meta, Struct, UnsetType

from registry.certificates.schemas import Verdict
from registry.tender.services import MAX_ITEMS, ItemKind


class Tender(Struct, forbid_unknown_fields=True):
    """The tender a check is for, signed into the receipt (docs/tender.md)."""

    name: Annotated[str | None, Meta(description="the tender's name, at most 200 characters")] = (
        None
    )
    number: Annotated[
        str | None, Meta(description="the tender's number, at most 200 characters")
    ] = None


class VerificationRequest(Struct, forbid_unknown_fields=True):
    """Certificate numbers and USCCs to check as of one instant; any other member is refused."""

    items: Annotated[
        list[str],
        Meta(
            description=f"a list of 1 to {MAX_ITEMS} certificate numbers or USCCs "
            "(a USCC stands for every certificate of that holder)"
        ),
    ]
    as_of: Annotated[
        str | None,
        Meta(
            description="the deadline: RFC 3339, YYYY-MM-DD, 2026-10-01 09:30, 2026/10/01 or "
            "2026年10月1日 (China Standard Time when no offset); default now"
        ),
    ] = None
    min_level: Annotated[
        str | None,
        Meta(description="five_star, four_star, three_star or compliant: adds meets_min_level"),
    ] = None
    keep: Annotated[
        bool,
        Meta(
            description="store the receipt under receipt_url, for anyone with the link; "
            "by default it is returned, not kept"
        ),
    ] = False
    tender: Annotated[
        Tender | None, Meta(description="the tender's name and number, signed into the receipt")
    ] = None


class ItemResult(Struct, forbid_unknown_fields=True):
    item: Annotated[str, Meta(description="the item as sent, trimmed")]
    kind: ItemKind
    verdicts: Annotated[
        list[Verdict], Meta(description="one for a number; one per certificate for a USCC")
    ]
    meets_min_level: bool | UnsetType = UNSET


class Duplicate(Struct, forbid_unknown_fields=True):
    """A repeated item, answered once at its first place."""

    index: int
    item: str
    same_as: Annotated[int, Meta(description="index of its first occurrence")]


class VerificationAnswer(Struct, forbid_unknown_fields=True):
    as_of: str
    checked_at: str
    results: list[ItemResult]
    duplicates: list[Duplicate]
    receipt: Annotated[
        str, Meta(description="compact JWS (typ starmark-receipt+jws) signed by the registry")
    ]
    receipt_id: Annotated[str, Meta(description="SHA-256 of the receipt JWS, base64url")]
    receipt_url: Annotated[
        str | None,
        Meta(description="where the kept receipt is checked (its QR target); null unless keep"),
    ]

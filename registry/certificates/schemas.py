"""What `/api/v1/certificates` takes and answers (PRODUCT §4), for clients and `/schema`.

Request structs check JSON types and member names only: a wrong type or an
unknown member is a 422 naming the field (`registry.problems`). The rules
(a USCC's check character, the level a score gives, which status may follow
which) stay in `signing` and the services, which the command line shares;
`to_fields` hands them the members that were sent, as sent.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar.params import KwargDefinition
from msgspec import UNSET, Meta, Struct, UnsetType

from signing.scheme import StarLevel
from signing.status import EventStatus
from signing.verdict import VerdictStatus

# --- requests --------------------------------------------------------------------------


class HolderFields(Struct, forbid_unknown_fields=True):
    """The certificate holder, as a body sends it."""

    name: Annotated[str, Meta(description="registered name in Chinese")]
    uscc: Annotated[str, Meta(description="18-character unified social credit code")]
    name_en: Annotated[str | UnsetType | None, Meta(description="name in English")] = UNSET
    address: Annotated[str | UnsetType | None, Meta(description="registered address")] = UNSET


class ScopeFields(Struct, forbid_unknown_fields=True):
    """What the certificate covers."""

    zh: Annotated[str, Meta(description="scope in Chinese")]
    en: Annotated[str | UnsetType | None, Meta(description="scope in English")] = UNSET


class CertificateRequest(Struct, forbid_unknown_fields=True):
    """`POST /api/v1/certificates` and `.../revisions`: the fields, or `{"jws"}` alone.

    With the fields the registry signs with the body's hosted key and fills in
    `type`, `v`, `scheme`, `revision`, `issuer` and `signed_at`; with `jws` the
    body signed the whole payload with its own key. `number`, `score`,
    `holder`, `scope`, `issued_on` and `valid_from` are required with the fields.
    """

    number: Annotated[
        str | UnsetType, Meta(description="certificate number, any case (upper-cased)")
    ] = UNSET
    score: Annotated[
        int | float | str | UnsetType,
        Meta(description="evaluation score 70-100, a number or a numeric string such as 92.5"),
    ] = UNSET
    level: Annotated[
        str | UnsetType | None,
        Meta(description="five_star, four_star, three_star or compliant; agrees with score"),
    ] = UNSET
    holder: HolderFields | UnsetType = UNSET
    scope: ScopeFields | UnsetType = UNSET
    sites: Annotated[
        list[str] | UnsetType | None, Meta(description="addresses of the sites covered")
    ] = UNSET
    issued_on: Annotated[str | UnsetType, Meta(description="YYYY-MM-DD")] = UNSET
    valid_from: Annotated[str | UnsetType, Meta(description="YYYY-MM-DD")] = UNSET
    valid_until: Annotated[
        str | UnsetType | None, Meta(description="YYYY-MM-DD; default the scheme's longest")
    ] = UNSET
    jws: Annotated[
        str | UnsetType,
        Meta(description="compact JWS (typ starmark-cert+jws) signed by the body's own key"),
    ] = UNSET
    body: Annotated[
        str | UnsetType,
        Meta(description="the certification body's code (operator tokens only)"),
    ] = UNSET


class StatusEventRequest(Struct, forbid_unknown_fields=True):
    """`POST /api/v1/certificates/{number}/events`: the fields, or `{"jws"}` alone."""

    status: Annotated[
        str | UnsetType,
        Meta(description="suspended, reinstated, revoked, withdrawn or surveillance_passed"),
    ] = UNSET
    effective_at: Annotated[
        str | UnsetType | None,
        Meta(description="RFC 3339 or YYYY-MM-DD (00:00 CST); default now"),
    ] = UNSET
    reason: Annotated[str | UnsetType | None, Meta(description="why, for the record")] = UNSET
    jws: Annotated[
        str | UnsetType,
        Meta(description="compact JWS (typ starmark-status+jws) signed by the body's own key"),
    ] = UNSET


def to_fields(request: Struct) -> dict[str, Any]:
    """The members that were sent, as the services read them (absent ones left out)."""
    fields: dict[str, Any] = msgspec.to_builtins(request)
    return fields


# --- responses -------------------------------------------------------------------------


class Holder(Struct, forbid_unknown_fields=True):
    name: str
    uscc: str
    name_en: str | UnsetType = UNSET
    address: str | UnsetType = UNSET


class Scope(Struct, forbid_unknown_fields=True):
    zh: str
    en: str | UnsetType = UNSET


class Issuer(Struct, forbid_unknown_fields=True):
    code: str
    name: str | UnsetType = UNSET


class CertificatePayload(Struct, forbid_unknown_fields=True):
    """A certificate revision's signed payload, exactly as signed."""

    type: str
    v: int
    number: str
    revision: int
    scheme: str
    #: As signed: 90 or 92.5. One JSON Schema "number" (an `int | float` would be a oneOf of
    #: integer and number, which 90 matches twice and so fails).
    score: Annotated[int | float, KwargDefinition(schema_extra={"one_of": None, "type": "number"})]
    level: StarLevel
    holder: Holder
    scope: Scope
    sites: list[str]
    issued_on: str
    valid_from: str
    valid_until: str
    issuer: Issuer
    signed_at: str


class Revision(Struct, forbid_unknown_fields=True):
    revision: int
    kid: Annotated[str | None, Meta(description="the kid in the JWS header")]
    jws: Annotated[str, Meta(description="compact JWS of the revision's payload")]
    log_index: Annotated[int, Meta(description="its leaf in the transparency log")]


class Event(Struct, forbid_unknown_fields=True):
    """Status, time and reason as the event's signed payload says (null when the
    certificate's documents do not verify)."""

    status: EventStatus | None
    effective_at: str | None
    recorded_at: str
    reason: str | None
    kid: Annotated[str | None, Meta(description="the kid in the JWS header")]
    jws: Annotated[str, Meta(description="compact JWS of the status event")]
    log_index: Annotated[int, Meta(description="its leaf in the transparency log")]


class CertificateDocument(Struct, forbid_unknown_fields=True):
    """One certificate: its status now, current payload, every revision and event."""

    number: str
    status: VerdictStatus
    body: Annotated[str | None, Meta(description="the issuing body, as the signed payload says")]
    certificate: Annotated[
        CertificatePayload | None,
        Meta(description="the latest revision's signed payload; null when it does not verify"),
    ]
    revisions: list[Revision]
    events: list[Event]


class Signature(Struct, forbid_unknown_fields=True):
    valid: bool
    kid: str | None
    issuer: str | None


class Verdict(Struct, forbid_unknown_fields=True):
    """The verdict JSON (PRODUCT §4); `meets_min_level` only when `min_level` was asked."""

    number: str | None
    status: VerdictStatus
    signature: Signature
    as_of: str
    checked_at: str
    revision: int | None
    level: StarLevel | None
    warnings: list[str]
    certificate: CertificatePayload | None
    reason: Annotated[str, Meta(description="a sentence for people (English)")]
    reason_code: Annotated[
        str, Meta(description="what reason says, for rendering in any language (docs/tender.md)")
    ]
    reason_params: Annotated[
        dict[str, Any], Meta(description="the values of reason_code: instants, names, texts")
    ]
    meets_min_level: bool | UnsetType = UNSET

"""What the bodies, keys and tokens API and the JWKS take and answer, for `/schema`.

Unknown request members are ignored here, as they always were; the services
check the values (a public Ed25519 JWK, a body code) and name what is wrong.
"""

from __future__ import annotations

from typing import Annotated, Any

from msgspec import Meta, Struct

from signing.keys import KeyState

RFC3339_OR_DATE = "RFC 3339 instant or YYYY-MM-DD (00:00 CST)"

# --- requests --------------------------------------------------------------------------


class BodyRequest(Struct):
    """`POST /api/v1/bodies`."""

    code: Annotated[str, Meta(description="short code, e.g. CQCT; upper-cased")]
    name: Annotated[str, Meta(description="the body's name in Chinese")]
    name_en: Annotated[str | None, Meta(description="the body's name in English")] = None
    approval_no: Annotated[
        str | None, Meta(description="approval number (批准号), e.g. CNCA-R-2002-001")
    ] = None
    website: Annotated[str | None, Meta(description="web site, an http(s):// URL")] = None
    phone: Annotated[
        str | None, Meta(description="telephone: digits, spaces, + - ( ), e.g. +86 10 8388 6666")
    ] = None


class BodyUpdate(Struct):
    """`PATCH /api/v1/bodies/{code}`: a member left out is unchanged; "" clears it."""

    name_en: Annotated[str | None, Meta(description="the body's name in English")] = None
    approval_no: Annotated[
        str | None, Meta(description="approval number (批准号), e.g. CNCA-R-2002-001")
    ] = None
    website: Annotated[str | None, Meta(description="web site, an http(s):// URL")] = None
    phone: Annotated[
        str | None, Meta(description="telephone: digits, spaces, + - ( ), e.g. +86 10 8388 6666")
    ] = None


class KeyRequest(Struct):
    """`POST /api/v1/bodies/{code}/keys`: `{"custody": "hosted"}` or `{"jwk": {...}}`."""

    custody: Annotated[
        str | None, Meta(description='"hosted": the registry makes and keeps the key')
    ] = None
    jwk: Annotated[
        dict[str, Any] | None,
        Meta(description='the public half of an own key: {"kty": "OKP", "crv": "Ed25519", "x"}'),
    ] = None
    not_before: Annotated[
        str | None, Meta(description=f"own keys: {RFC3339_OR_DATE}; default now")
    ] = None
    not_after: Annotated[str | None, Meta(description=f"{RFC3339_OR_DATE}; default none")] = None


class TokenRequest(Struct):
    """`POST /api/v1/bodies/{code}/tokens` (the body may be left out)."""

    label: Annotated[str | None, Meta(description="what the token is for")] = None


class CompromiseRequest(Struct):
    """`POST /api/v1/keys/{kid}/compromise` (the body may be left out)."""

    compromised_at: Annotated[str | None, Meta(description=f"{RFC3339_OR_DATE}; default now")] = (
        None
    )


# --- responses -------------------------------------------------------------------------


class Key(Struct, forbid_unknown_fields=True):
    kid: str
    jwk: Annotated[dict[str, str], Meta(description='{"crv": "Ed25519", "kty": "OKP", "x"}')]
    custody: Annotated[str, Meta(description="hosted or own")]
    state: KeyState
    not_before: str | None
    not_after: str | None
    compromised_at: str | None


class Body(Struct, forbid_unknown_fields=True):
    code: str
    name: str
    name_en: str | None
    approval_no: str | None = None
    website: str | None = None
    phone: str | None = None


class BodyWithKeys(Struct, forbid_unknown_fields=True):
    code: str
    name: str
    name_en: str | None
    keys: list[Key]
    approval_no: str | None = None
    website: str | None = None
    phone: str | None = None


class BodyPage(Struct, forbid_unknown_fields=True):
    items: list[BodyWithKeys]
    next_cursor: Annotated[str | None, Meta(description="pass as `cursor` for the next page")]


class NewToken(Struct, forbid_unknown_fields=True):
    token: Annotated[str, Meta(description="shown this once; never stored in clear")]
    prefix: str
    body: str


class CompromisedKey(Struct, forbid_unknown_fields=True):
    kid: str
    state: KeyState
    compromised_at: str


class JwksKey(Struct, forbid_unknown_fields=True):
    """A public key with the registry's members (PRODUCT §4)."""

    kid: str
    kty: str
    crv: str
    x: str
    use: str
    alg: str
    body: Annotated[
        str | None, Meta(description="the body's code, or \"registry\" for the registry's key")
    ]
    not_before: str | None
    not_after: str | None
    state: KeyState
    compromised_at: str | None


class Jwks(Struct, forbid_unknown_fields=True):
    keys: list[JwksKey]

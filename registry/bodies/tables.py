"""Certification bodies, their signing keys and API tokens."""

from __future__ import annotations

from piccolo.columns import (
    Boolean,
    ForeignKey,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class CertificationBody(Table, tablename="certification_body"):
    id = Serial(primary_key=True)
    #: Short code chosen by the operator, e.g. `CQC`; appears as `issuer.code`.
    code = Varchar(length=32, unique=True, index=True)
    #: Official Chinese name; appears as `issuer.name`.
    name = Varchar(length=200)
    #: English name, shown on English pages (registry data, not signed).
    name_en = Varchar(length=200, null=True, default=None)
    #: The body's approval number (批准号) from CNCA, e.g. `CNCA-R-2002-001`.
    approval_no = Varchar(length=32, null=True, default=None)
    #: The body's web site, an http(s) URL.
    website = Varchar(length=200, null=True, default=None)
    #: The body's telephone number, as people dial it (digits, spaces, + - ( )).
    phone = Varchar(length=40, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class SigningKey(Table, tablename="signing_key"):
    id = Serial(primary_key=True)
    #: RFC 7638 thumbprint of the public JWK.
    kid = Varchar(length=64, unique=True, index=True)
    #: The owning body; null for the registry's own key (receipts, checkpoints).
    body = ForeignKey(
        references=CertificationBody,
        null=True,
        default=None,
        on_delete=OnDelete.restrict,
        on_update=OnUpdate.restrict,
    )
    #: `{"crv":"Ed25519","kty":"OKP","x":...}` as JSON text.
    public_jwk = Text()
    #: Validity window: documents count only when signed inside it.
    not_before = Timestamptz(default=TimestamptzNow())
    not_after = Timestamptz(null=True, default=None)
    #: `active`, `retired` or `compromised`.
    state = Varchar(length=16, default="active")
    compromised_at = Timestamptz(null=True, default=None)
    #: `hosted` (the registry signs) or `own` (the body signs offline).
    custody = Varchar(length=8)
    #: Hosted keys only: encrypted PKCS#8 PEM, unlocked by STARMARK_KEY_PASSPHRASE.
    encrypted_private_key = Text(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class ApiToken(Table, tablename="api_token"):
    id = Serial(primary_key=True)
    #: SHA-256 of the token, hex. The token itself is shown once and never stored.
    token_hash = Varchar(length=64, unique=True, index=True)
    #: The body the token acts for; null for an operator token.
    body = ForeignKey(
        references=CertificationBody,
        null=True,
        default=None,
        on_delete=OnDelete.restrict,
        on_update=OnUpdate.restrict,
    )
    is_operator = Boolean(default=False)
    #: First characters of the token, to tell tokens apart in listings and logs.
    prefix = Varchar(length=16)
    label = Varchar(length=200, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    revoked_at = Timestamptz(null=True, default=None)
    #: When a request last authenticated with it, to the hour (`LAST_USED_STEP`);
    #: null while it never has.
    last_used_at = Timestamptz(null=True, default=None)

"""Starmark's trust core: canonical JSON, Ed25519 keys, JWS, JWKS, payload rules,
the status fold and the verdict.

A pure library (docs/architecture.md): no web framework, ORM, environment,
file system or clock. Callers pass bytes, keys and ``now``. Runtime
dependencies: the standard library, ``cryptography`` and ``rfc8785``.
"""

from __future__ import annotations

from signing.documents import (
    CertificatePayload,
    Holder,
    Issuer,
    ReceiptPayload,
    Scope,
    StatusEventPayload,
)
from signing.errors import (
    FieldProblem,
    InvalidKeyError,
    InvalidPayloadError,
    KeyNotUsableError,
    MalformedError,
    SigningError,
    TransitionError,
    UnknownKeyError,
    UnverifiedSignatureError,
    VerificationError,
)
from signing.identifiers import Uscc, parse_certificate_number
from signing.instants import CST, format_instant, parse_date, parse_instant
from signing.jcs import canonical_bytes, parse_canonical
from signing.jwks import KeySet
from signing.jws import (
    CERTIFICATE_TYP,
    RECEIPT_TYP,
    STATUS_TYP,
    CompactJWS,
    SignedDocument,
    open_signed,
    sign_compact,
)
from signing.keys import KeyRecord, KeyState, PrivateKey, PublicKey
from signing.scheme import GB_T_27922_2011, SCHEMES, Scheme, StarLevel
from signing.status import (
    CertificateStatus,
    EventStatus,
    StatusAt,
    check_history,
    check_new_event,
    check_new_revision,
    status_at,
)
from signing.verdict import (
    SignedInput,
    Verdict,
    VerdictStatus,
    certificate_verdict,
    document_verdict,
    failed_verdict,
    not_found_verdict,
)

__all__ = [
    "CERTIFICATE_TYP",
    "CST",
    "GB_T_27922_2011",
    "RECEIPT_TYP",
    "SCHEMES",
    "STATUS_TYP",
    "CertificatePayload",
    "CertificateStatus",
    "CompactJWS",
    "EventStatus",
    "FieldProblem",
    "Holder",
    "InvalidKeyError",
    "InvalidPayloadError",
    "Issuer",
    "KeyNotUsableError",
    "KeyRecord",
    "KeySet",
    "KeyState",
    "MalformedError",
    "PrivateKey",
    "PublicKey",
    "ReceiptPayload",
    "Scheme",
    "Scope",
    "SignedDocument",
    "SignedInput",
    "SigningError",
    "StarLevel",
    "StatusAt",
    "StatusEventPayload",
    "TransitionError",
    "UnknownKeyError",
    "UnverifiedSignatureError",
    "Uscc",
    "Verdict",
    "VerdictStatus",
    "VerificationError",
    "canonical_bytes",
    "certificate_verdict",
    "check_history",
    "check_new_event",
    "check_new_revision",
    "document_verdict",
    "failed_verdict",
    "format_instant",
    "not_found_verdict",
    "open_signed",
    "parse_canonical",
    "parse_certificate_number",
    "parse_date",
    "parse_instant",
    "sign_compact",
    "status_at",
]

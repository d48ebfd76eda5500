"""Compact JWS (RFC 7515 §7.1) with ``alg: EdDSA`` (RFC 8037 §3.1), by hand on pyca.

Why not a JOSE library: a compact token is three base64url segments and one
Ed25519 signature over the first two. What a JOSE library adds is algorithm
negotiation and header processing, which we must restrict anyway (one
algorithm, exactly three header members: a header we do not understand could
change how a verifier reads the token, RFC 7515 §4.1.11). And it costs: joserfc's
EdDSA path plus a full rfc8785 round trip measured about 55-57% of raw Ed25519
verify throughput (PyJWT's about 42%), against a target of 70%; this module
measures about 75% (bench/bench_signing.py prints all of them side by side).
Interoperability is proven instead by tests against two independent JOSE
libraries, PyJWT and jwcrypto (tests/signing/test_jws.py), both ways.

Order of checks in `open_signed` (docs/architecture.md, "Rules that are easy to
get wrong"): the envelope is parsed, the key looked up, the signature verified,
and only then is the payload parsed: the JSON parser never runs on a payload
no key vouches for. (The header is parsed before, but it is small, cached,
and held to exactly three string members.)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, NoReturn

from signing.errors import InvalidPayloadError, MalformedError
from signing.jcs import canonical_bytes, parse_canonical
from signing.jwks import KeySet
from signing.keys import (
    ED25519_SIGNATURE_LENGTH,
    KeyRecord,
    PrivateKey,
    b64url_decode,
    b64url_encode,
)

__all__ = [
    "ALGORITHM",
    "CERTIFICATE_TYP",
    "KEY_TYP",
    "MAX_TOKEN_LENGTH",
    "RECEIPT_TYP",
    "STATUS_TYP",
    "CompactJWS",
    "SignedDocument",
    "open_signed",
    "sign_compact",
]

#: RFC 8037 §3.1. The newer fully-specified name "Ed25519" (RFC 9864) is not
#: accepted: PyJWT does not know it, and one name keeps one spelling per token.
ALGORITHM: Final = "EdDSA"

#: ``typ`` of a certificate revision (PRODUCT §3).
CERTIFICATE_TYP: Final = "starmark-cert+jws"
#: ``typ`` of a status event.
STATUS_TYP: Final = "starmark-status+jws"
#: ``typ`` of a verification receipt.
RECEIPT_TYP: Final = "starmark-receipt+jws"
#: ``typ`` of a key statement: the registry's record of a body key (a log leaf).
KEY_TYP: Final = "starmark-key+jws"

#: A certificate is about 1 KiB, a receipt of 500 results about 300 KiB
#: (docs/tender.md); 1 MiB, the API's request limit (PRODUCT §4), leaves room
#: for that and bounds the work a hostile token can cause (about 3 ms to hash
#: and verify).
MAX_TOKEN_LENGTH: Final = 1024 * 1024

_HEADER_MEMBERS: Final = frozenset({"alg", "kid", "typ"})


def _reject_constant(name: str) -> NoReturn:
    raise MalformedError(f"JWS header contains {name}, which is not JSON")


def _header_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        # RFC 7515 §5.2 step 4: duplicate header names must be rejected (two
        # "alg" members could be read differently by two verifiers).
        raise MalformedError("JWS header has a duplicate member")
    return obj


_HEADER_DECODER = json.JSONDecoder(
    object_pairs_hook=_header_object, parse_constant=_reject_constant
)


@dataclass(frozen=True, slots=True)
class CompactJWS:
    """A parsed, not yet verified, compact JWS.

    ``signing_input`` is the ASCII of ``header.payload`` (RFC 7515 §5.1 step 8),
    the bytes the signature covers.
    """

    header: dict[str, str]
    kid: str
    typ: str
    signing_input: bytes
    payload_bytes: bytes
    signature: bytes

    @classmethod
    def parse(cls, token: str) -> CompactJWS:
        """Split and decode a compact JWS and check its header. Verifies nothing.

        Raises:
            MalformedError: not a string, longer than `MAX_TOKEN_LENGTH`, not
                exactly three segments, a segment that is not canonical unpadded
                base64url, a header that is not a JSON object of exactly string
                members ``alg``, ``kid`` and ``typ``, ``alg`` other than
                ``EdDSA`` (``none``, ``HS256``, ``Ed25519``... are refused), or
                a signature that is not 64 bytes.
        """
        if not isinstance(token, str):
            raise MalformedError(f"a compact JWS is a string, got {type(token).__name__}")
        if len(token) > MAX_TOKEN_LENGTH:
            raise MalformedError(
                f"JWS is {len(token)} characters, more than the limit of {MAX_TOKEN_LENGTH}"
            )
        segments = token.split(".")
        if len(segments) != 3:
            raise MalformedError(
                f"a compact JWS has 3 segments separated by '.', this one has {len(segments)}"
            )
        header_b64, payload_b64, signature_b64 = segments
        cached = _HEADER_CACHE.get(header_b64)
        if cached is None:
            cached = _parse_header(header_b64)
            if len(_HEADER_CACHE) >= _HEADER_CACHE_SIZE:
                _HEADER_CACHE.clear()
            _HEADER_CACHE[header_b64] = cached
        header, kid, typ = cached
        payload_bytes = b64url_decode(payload_b64, "JWS payload")
        signature = b64url_decode(signature_b64, "JWS signature")
        if len(signature) != ED25519_SIGNATURE_LENGTH:
            raise MalformedError(f"JWS signature must be 64 bytes (Ed25519), got {len(signature)}")
        # The token is ASCII here: every segment passed the base64url alphabet check.
        signing_input = token[: len(header_b64) + 1 + len(payload_b64)].encode("ascii")
        return cls(
            header=dict(header),
            kid=kid,
            typ=typ,
            signing_input=signing_input,
            payload_bytes=payload_bytes,
            signature=signature,
        )


# Tokens of one body share their header segment (same kid and typ), and what a
# header means depends on nothing but its text, so parsed headers are cached.
# Only headers that passed every check are stored; the cache is bounded.
_HEADER_CACHE_SIZE: Final = 1024
_HEADER_CACHE: dict[str, tuple[dict[str, str], str, str]] = {}


def _parse_header(header_b64: str) -> tuple[dict[str, str], str, str]:
    """Decode and check a protected header (RFC 7515 §5.2 steps 2-5)."""
    header_bytes = b64url_decode(header_b64, "JWS header")
    try:
        header = _HEADER_DECODER.decode(header_bytes.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise MalformedError(f"JWS header is not a JSON object: {e}") from e
    if not isinstance(header, dict):
        raise MalformedError("JWS header is not a JSON object")
    members = header.keys()
    if members != _HEADER_MEMBERS:
        extra = sorted(members - _HEADER_MEMBERS)
        missing = sorted(_HEADER_MEMBERS - members)
        problems = []
        if extra:
            problems.append(f"unsupported member(s) {', '.join(map(repr, extra))}")
        if missing:
            problems.append(f"missing {', '.join(map(repr, missing))}")
        raise MalformedError(
            f"JWS header has {' and '.join(problems)}; exactly alg, kid and typ are allowed"
        )
    alg, kid, typ = header["alg"], header["kid"], header["typ"]
    if alg != ALGORITHM:
        raise MalformedError(f"JWS alg must be 'EdDSA', got {alg!r}")
    if not isinstance(kid, str) or not kid:
        raise MalformedError("JWS kid must be a non-empty string")
    if not isinstance(typ, str) or not typ:
        raise MalformedError("JWS typ must be a non-empty string")
    return header, kid, typ


@dataclass(frozen=True, slots=True)
class SignedDocument:
    """A JWS whose signature holds under ``key`` and whose payload is a canonical JSON object.

    Whether the key *counts* for this document (its window, compromise) is
    judged at the payload's ``signed_at``: call ``key.check_usable(...)``
    once the payload is read (see `signing.verdict`).
    """

    token: str
    kid: str
    typ: str
    key: KeyRecord
    payload: dict[str, Any]


def sign_compact(payload: Mapping[str, Any], *, key: PrivateKey, typ: str) -> str:
    """Sign ``payload`` as a compact JWS.

    The protected header is exactly ``{"alg":"EdDSA","kid":<kid>,"typ":<typ>}``
    and the payload is ``canonical_bytes(payload)`` (PRODUCT §3).

    Raises:
        MalformedError: ``payload`` has no RFC 8785 form, or ``typ`` is empty.
    """
    if not isinstance(typ, str) or not typ:
        raise MalformedError("typ must be a non-empty string")
    header = canonical_bytes({"alg": ALGORITHM, "kid": key.kid, "typ": typ})
    body = canonical_bytes(dict(payload))
    signing_input = f"{b64url_encode(header)}.{b64url_encode(body)}"
    signature = key.sign(signing_input.encode("ascii"))
    return f"{signing_input}.{b64url_encode(signature)}"


def open_signed(token: str, *, keys: KeySet, typ: str | None = None) -> SignedDocument:
    """Parse ``token``, verify its signature with the key named by ``kid``, read its payload.

    Errors before the signature is verified are `MalformedError` (envelope),
    `UnknownKeyError` or `VerificationError`; errors about content covered by
    a valid signature (``typ`` other than expected, payload not canonical JSON,
    not an object) are `InvalidPayloadError`. A verdict tells them apart:
    signature invalid vs. malformed.

    Raises:
        MalformedError: the token is not a well-formed compact EdDSA JWS.
        UnknownKeyError: ``kid`` is not in ``keys``.
        VerificationError: the signature does not hold.
        InvalidPayloadError: signed, but ``typ`` differs from the one asked for,
            or the payload is not a JSON object in RFC 8785 canonical form.
    """
    jws = CompactJWS.parse(token)
    record = keys.get(jws.kid)
    record.public_key.verify(jws.signature, jws.signing_input)
    if typ is not None and jws.typ != typ:
        raise InvalidPayloadError.single("typ", f"expected {typ!r}, got {jws.typ!r}")
    try:
        payload = parse_canonical(jws.payload_bytes)
    except MalformedError as e:
        raise InvalidPayloadError.single("payload", str(e)) from e
    if not isinstance(payload, dict):
        raise InvalidPayloadError.single(
            "payload", f"must be a JSON object, got {type(payload).__name__}"
        )
    return SignedDocument(token=token, kid=jws.kid, typ=jws.typ, key=record, payload=payload)

"""Compact JWS: our exact format, interoperability with two JOSE libraries, refusals."""

from __future__ import annotations

import base64
import json
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwcrypto import jwk as jwcrypto_jwk
from jwcrypto import jws as jwcrypto_jws

from signing.documents import CertificatePayload
from signing.errors import (
    InvalidPayloadError,
    MalformedError,
    UnknownKeyError,
    VerificationError,
)
from signing.jcs import canonical_bytes
from signing.jwks import KeySet
from signing.jws import (
    CERTIFICATE_TYP,
    MAX_TOKEN_LENGTH,
    RECEIPT_TYP,
    STATUS_TYP,
    CompactJWS,
    open_signed,
    sign_compact,
)
from signing.keys import PrivateKey, b64url_decode, b64url_encode


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token_with(
    key: PrivateKey,
    *,
    header: dict[str, Any] | bytes,
    payload: bytes,
) -> str:
    """A correctly signed token with any header and payload bytes."""
    header_bytes = header if isinstance(header, bytes) else json.dumps(header).encode()
    signing_input = f"{b64(header_bytes)}.{b64(payload)}"
    return f"{signing_input}.{b64(key.sign(signing_input.encode()))}"


def pyca_private_key(key: PrivateKey) -> Ed25519PrivateKey:
    """The pyca key behind ours, through the public PKCS#8 export, for the other libraries."""
    loaded = serialization.load_pem_private_key(key.to_pkcs8_pem(passphrase=b"x"), password=b"x")
    assert isinstance(loaded, Ed25519PrivateKey)
    return loaded


@pytest.fixture
def payload(docs: Any) -> dict[str, Any]:
    certificate: CertificatePayload = docs.certificate()
    return certificate.to_json()


@pytest.fixture
def token(payload: dict[str, Any], body_key: PrivateKey) -> str:
    return sign_compact(payload, key=body_key, typ=CERTIFICATE_TYP)


def test_typ_constants() -> None:
    assert (CERTIFICATE_TYP, STATUS_TYP, RECEIPT_TYP) == (
        "starmark-cert+jws",
        "starmark-status+jws",
        "starmark-receipt+jws",
    )


def test_sign_compact_writes_exactly_our_header_and_the_jcs_payload(
    token: str, payload: dict[str, Any], body_key: PrivateKey
) -> None:
    header, body, signature = token.split(".")
    assert b64url_decode(header) == (
        b'{"alg":"EdDSA","kid":"' + body_key.kid.encode() + b'","typ":"starmark-cert+jws"}'
    )
    assert b64url_decode(body) == canonical_bytes(payload)
    body_key.public_key.verify(b64url_decode(signature), f"{header}.{body}".encode())
    # Ed25519 is deterministic: the same document gives the same token.
    assert sign_compact(payload, key=body_key, typ=CERTIFICATE_TYP) == token


def test_open_signed(
    token: str, payload: dict[str, Any], keyset: KeySet, body_key: PrivateKey
) -> None:
    document = open_signed(token, keys=keyset, typ=CERTIFICATE_TYP)
    assert document.payload == payload
    assert document.kid == body_key.kid
    assert document.typ == CERTIFICATE_TYP
    assert document.key is keyset.get(body_key.kid)
    assert document.token == token
    assert open_signed(token, keys=keyset).payload == payload  # typ not asked


def test_compact_jws_parse(token: str, body_key: PrivateKey) -> None:
    parsed = CompactJWS.parse(token)
    assert parsed.header == {"alg": "EdDSA", "kid": body_key.kid, "typ": CERTIFICATE_TYP}
    assert parsed.signing_input == token.rpartition(".")[0].encode()
    assert len(parsed.signature) == 64
    parsed.header["alg"] = "none"  # a caller's copy: the next parse is unaffected
    assert CompactJWS.parse(token).header["alg"] == "EdDSA"


# --- interoperability -------------------------------------------------------------


def test_pyjwt_verifies_our_token_with_the_key_from_our_jwks(
    token: str, payload: dict[str, Any], keyset: KeySet, body_key: PrivateKey
) -> None:
    served = json.loads(json.dumps(keyset.to_jwks()))
    jwk = next(k for k in served["keys"] if k["kid"] == body_key.kid)
    decoded = jwt.api_jws.PyJWS().decode_complete(
        token, key=jwt.PyJWK(jwk).key, algorithms=["EdDSA"]
    )
    assert decoded["header"] == {"alg": "EdDSA", "kid": body_key.kid, "typ": CERTIFICATE_TYP}
    assert json.loads(decoded["payload"]) == payload
    with pytest.raises(jwt.exceptions.InvalidSignatureError):
        jwt.api_jws.PyJWS().decode_complete(
            token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBA"),
            key=jwt.PyJWK(jwk).key,
            algorithms=["EdDSA"],
        )


def test_open_signed_accepts_a_pyjwt_token(
    payload: dict[str, Any], keyset: KeySet, body_key: PrivateKey
) -> None:
    theirs = jwt.api_jws.PyJWS().encode(
        canonical_bytes(payload),
        key=pyca_private_key(body_key),
        algorithm="EdDSA",
        headers={"kid": body_key.kid, "typ": CERTIFICATE_TYP},
    )
    assert open_signed(theirs, keys=keyset, typ=CERTIFICATE_TYP).payload == payload


def test_jwcrypto_verifies_our_token_with_the_key_from_our_jwks(
    token: str, payload: dict[str, Any], keyset: KeySet, body_key: PrivateKey
) -> None:
    served = keyset.to_jwks()["keys"]
    jwk = next(k for k in served if k["kid"] == body_key.kid)
    key = jwcrypto_jwk.JWK(**{m: jwk[m] for m in ("kty", "crv", "x", "kid", "use", "alg")})
    theirs = jwcrypto_jws.JWS()
    theirs.deserialize(token)
    theirs.verify(key, alg="EdDSA")
    assert json.loads(theirs.payload) == payload
    assert theirs.jose_header["typ"] == CERTIFICATE_TYP


def test_open_signed_accepts_a_jwcrypto_token(
    payload: dict[str, Any], keyset: KeySet, body_key: PrivateKey
) -> None:
    seed = pyca_private_key(body_key).private_bytes_raw()
    key = jwcrypto_jwk.JWK(
        kty="OKP", crv="Ed25519", x=body_key.public_key.to_jwk()["x"], d=b64(seed)
    )
    theirs = jwcrypto_jws.JWS(canonical_bytes(payload))
    theirs.add_signature(
        key,
        alg=None,
        protected=json.dumps({"typ": CERTIFICATE_TYP, "kid": body_key.kid, "alg": "EdDSA"}),
    )
    token = theirs.serialize(compact=True)
    assert open_signed(token, keys=keyset, typ=CERTIFICATE_TYP).payload == payload


# --- tampering and refusals ---------------------------------------------------------


def flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


@pytest.mark.parametrize("segment", [0, 1, 2])
@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_one_changed_byte_is_rejected(token: str, keyset: KeySet, segment: int, where: str) -> None:
    parts = token.split(".")
    data = b64url_decode(parts[segment])
    index = {"first": 0, "middle": len(data) // 2, "last": len(data) - 1}[where]
    parts[segment] = b64url_encode(flip(data, index))
    with pytest.raises((VerificationError, MalformedError, UnknownKeyError)):
        open_signed(".".join(parts), keys=keyset, typ=CERTIFICATE_TYP)


def test_a_changed_payload_byte_fails_the_signature(token: str, keyset: KeySet) -> None:
    header, body, signature = token.split(".")
    changed = b64url_decode(body).replace(b'"score":92.5', b'"score":97.5')
    with pytest.raises(VerificationError, match="does not verify"):
        open_signed(f"{header}.{b64url_encode(changed)}.{signature}", keys=keyset)


def test_a_changed_typ_fails_the_signature(token: str, keyset: KeySet) -> None:
    header, body, signature = token.split(".")
    changed = b64url_decode(header).replace(b"cert", b"status")
    with pytest.raises(VerificationError):
        open_signed(f"{b64url_encode(changed)}.{body}.{signature}", keys=keyset)


def header_of(key_id: str, **changes: Any) -> dict[str, Any]:
    header: dict[str, Any] = {"alg": "EdDSA", "kid": key_id, "typ": CERTIFICATE_TYP}
    header.update(changes)
    return {k: v for k, v in header.items() if v is not None}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        pytest.param({"alg": "none"}, "alg must be 'EdDSA', got 'none'", id="alg-none"),
        pytest.param({"alg": "HS256"}, "alg must be 'EdDSA', got 'HS256'", id="alg-HS256"),
        pytest.param({"alg": "Ed25519"}, "got 'Ed25519'", id="alg-Ed25519"),
        pytest.param({"alg": "ES256"}, "got 'ES256'", id="alg-ES256"),
        pytest.param({"alg": None}, "missing 'alg'", id="alg-missing"),
        pytest.param({"crit": ["b64"], "b64": False}, "unsupported member", id="crit-b64"),
        pytest.param({"crit": ["exp"]}, "unsupported member.*'crit'", id="crit"),
        pytest.param({"b64": True}, "unsupported member.*'b64'", id="b64"),
        pytest.param({"jwk": {"kty": "OKP"}}, "'jwk'", id="embedded-jwk"),
        pytest.param({"x5u": "https://evil.test"}, "'x5u'", id="x5u"),
        pytest.param({"kid": None}, "missing 'kid'", id="kid-missing"),
        pytest.param({"kid": ""}, "kid must be a non-empty string", id="kid-empty"),
        pytest.param({"kid": 7}, "kid must be a non-empty string", id="kid-number"),
        pytest.param({"typ": None}, "missing 'typ'", id="typ-missing"),
        pytest.param({"typ": ["x"]}, "typ must be a non-empty string", id="typ-array"),
    ],
)
def test_header_refusals(
    changes: dict[str, Any], message: str, body_key: PrivateKey, keyset: KeySet
) -> None:
    bad = token_with(body_key, header=header_of(body_key.kid, **changes), payload=b"{}")
    with pytest.raises(MalformedError, match=message):
        open_signed(bad, keys=keyset)
    # Twice: a refused header must not be remembered as good.
    with pytest.raises(MalformedError, match=message):
        CompactJWS.parse(bad)


def test_duplicate_header_member(body_key: PrivateKey, keyset: KeySet) -> None:
    header = (
        f'{{"alg":"none","alg":"EdDSA","kid":"{body_key.kid}","typ":"starmark-cert+jws"}}'
    ).encode()
    with pytest.raises(MalformedError, match="duplicate member"):
        open_signed(token_with(body_key, header=header, payload=b"{}"), keys=keyset)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (b"[]", "not a JSON object"),
        (b"not json", "not a JSON object"),
        (b'{"alg":NaN}', "not JSON"),
        (b"\xff\xfe", "not a JSON object"),
    ],
)
def test_header_that_is_not_a_json_object(
    header: bytes, message: str, body_key: PrivateKey, keyset: KeySet
) -> None:
    with pytest.raises(MalformedError, match=message):
        open_signed(token_with(body_key, header=header, payload=b"{}"), keys=keyset)


def test_unknown_kid(payload: dict[str, Any], keyset: KeySet) -> None:
    stranger = PrivateKey.from_seed(b"\x07" * 32)
    with pytest.raises(UnknownKeyError, match=stranger.kid):
        open_signed(sign_compact(payload, key=stranger, typ=CERTIFICATE_TYP), keys=keyset)


def test_a_key_named_by_another_kid_fails(
    payload: dict[str, Any], keyset: KeySet, body_key: PrivateKey, other_key: PrivateKey
) -> None:
    forged = token_with(other_key, header=header_of(body_key.kid), payload=canonical_bytes(payload))
    with pytest.raises(VerificationError):
        open_signed(forged, keys=keyset)


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        pytest.param(lambda t: t.rpartition(".")[0], "has 2", id="2-segments"),
        pytest.param(lambda t: t + ".", "has 4", id="4-segments"),
        pytest.param(lambda t: t + ".AAAA.AAAA", "has 5", id="5-segments-JWE-shape"),
        pytest.param(lambda t: t.replace(".", "..", 1), "has 4", id="empty-segment"),
        pytest.param(lambda t: t + "==", "padding", id="padding-on-signature"),
        pytest.param(lambda t: t.replace(".", "=.", 1), "padding", id="padding-on-header"),
        pytest.param(lambda t: t[:-2], "64 bytes", id="short-signature"),
        pytest.param(lambda t: t[:-1] + "B", "trailing bits", id="non-canonical-trailing-bits"),
        pytest.param(
            lambda t: t.replace("-", "+").replace("_", "/"), "not base64url", id="std-b64"
        ),
        pytest.param(lambda t: " " + t, "not base64url", id="leading-space"),
        pytest.param(lambda t: t + "\n", "not base64url", id="trailing-newline"),
        pytest.param(lambda t: t[:10] + "é" + t[11:], "not base64url", id="non-ascii"),
        pytest.param(lambda t: "", "has 1", id="empty"),
    ],
)
def test_envelope_refusals(token: str, keyset: KeySet, mangle: Any, message: str) -> None:
    mangled = mangle(token)
    if mangled == token:
        pytest.skip("this token has no character to mangle")  # pragma: no cover
    with pytest.raises(MalformedError, match=message):
        open_signed(mangled, keys=keyset)


def test_oversized_token(body_key: PrivateKey, keyset: KeySet) -> None:
    big = sign_compact({"x": "a" * MAX_TOKEN_LENGTH}, key=body_key, typ=CERTIFICATE_TYP)
    with pytest.raises(MalformedError, match="more than the limit"):
        open_signed(big, keys=keyset)


def test_not_a_string(keyset: KeySet) -> None:
    with pytest.raises(MalformedError, match="is a string"):
        open_signed(b"a.b.c", keys=keyset)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "payload_bytes",
    [
        pytest.param(b'{"b":1,"a":2}', id="key-order"),
        pytest.param(b'{"a": 1}', id="whitespace"),
        pytest.param(b'{"a":1.0}', id="number-form"),
        pytest.param(b'{"a":"\\u00e9"}', id="escaped"),
        pytest.param(b'{"a":1,"a":2}', id="duplicate"),
        pytest.param(b"not json", id="not-json"),
    ],
)
def test_a_non_canonical_payload_signed_correctly_is_malformed(
    payload_bytes: bytes, body_key: PrivateKey, keyset: KeySet
) -> None:
    token = token_with(body_key, header=header_of(body_key.kid), payload=payload_bytes)
    with pytest.raises(InvalidPayloadError, match="payload") as caught:
        open_signed(token, keys=keyset)
    assert isinstance(caught.value, MalformedError)


@pytest.mark.parametrize("payload_bytes", [b"[1,2]", b'"text"', b"null", b"3"])
def test_a_payload_that_is_not_an_object_is_malformed(
    payload_bytes: bytes, body_key: PrivateKey, keyset: KeySet
) -> None:
    token = token_with(body_key, header=header_of(body_key.kid), payload=payload_bytes)
    with pytest.raises(InvalidPayloadError, match="must be a JSON object"):
        open_signed(token, keys=keyset)


def test_the_signature_is_checked_before_the_payload_is_parsed(
    body_key: PrivateKey, keyset: KeySet
) -> None:
    token = token_with(body_key, header=header_of(body_key.kid), payload=b"not json")
    header, body, _ = token.split(".")
    forged = f"{header}.{body}.{b64(bytes(64))}"
    with pytest.raises(VerificationError):
        open_signed(forged, keys=keyset)


def test_a_wrong_typ_is_refused_after_the_signature(token: str, keyset: KeySet) -> None:
    with pytest.raises(InvalidPayloadError, match="expected 'starmark-status\\+jws'"):
        open_signed(token, keys=keyset, typ=STATUS_TYP)


def test_sign_compact_refusals(body_key: PrivateKey) -> None:
    with pytest.raises(MalformedError, match="typ"):
        sign_compact({}, key=body_key, typ="")
    with pytest.raises(MalformedError, match="cannot canonicalise"):
        sign_compact({"score": float("nan")}, key=body_key, typ=CERTIFICATE_TYP)

"""Ed25519 keys: Wycheproof, RFC 8037's worked example, RFC 7638 kids, PEM, key records."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from jwcrypto import jwk as jwcrypto_jwk

from signing.errors import (
    InvalidKeyError,
    KeyNotUsableError,
    MalformedError,
    VerificationError,
)
from signing.keys import (
    KeyRecord,
    KeyState,
    PrivateKey,
    PublicKey,
    b64url_decode,
    b64url_encode,
)

# RFC 8037 Appendix A.1 (the private key), A.3 (its thumbprint), A.4 (a signature).
RFC8037_D = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
RFC8037_X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
RFC8037_KID = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
RFC8037_JWS = (
    "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc."
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
)


def test_wycheproof(wycheproof_case: tuple[str, dict[str, Any]]) -> None:
    public_hex, case = wycheproof_case
    message, signature = bytes.fromhex(case["msg"]), bytes.fromhex(case["sig"])

    def verify() -> None:
        PublicKey.from_raw(bytes.fromhex(public_hex)).verify(signature, message)

    if case["result"] == "valid":
        verify()
    else:
        assert case["result"] == "invalid"
        with pytest.raises((VerificationError, InvalidKeyError)):
            verify()


def test_rfc8037_thumbprint() -> None:
    key = PublicKey.from_jwk({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X})
    assert key.kid == RFC8037_KID


def test_rfc8037_private_key_signs_the_published_signature() -> None:
    key = PrivateKey.from_seed(b64url_decode(RFC8037_D))
    assert key.public_key.to_jwk()["x"] == RFC8037_X
    assert key.kid == RFC8037_KID
    signing_input, _, signature = RFC8037_JWS.rpartition(".")
    assert key.sign(signing_input.encode()) == b64url_decode(signature)
    key.public_key.verify(b64url_decode(signature), signing_input.encode())
    # The seed handed to the importer's worker processes is the RFC's d.
    assert key.seed() == b64url_decode(RFC8037_D)


@pytest.mark.parametrize("seed", [bytes(32), bytes(range(32)), b"\xff" * 32])
def test_kid_equals_jwcrypto_thumbprint(seed: bytes) -> None:
    public = PrivateKey.from_seed(seed).public_key
    theirs = jwcrypto_jwk.JWK.from_json(json.dumps(public.to_jwk()))
    assert public.kid == theirs.thumbprint()


def test_generated_keys_differ_and_round_trip_through_jwk() -> None:
    a, b = PrivateKey.generate(), PrivateKey.generate()
    assert a.kid != b.kid
    again = PublicKey.from_jwk(a.public_key.to_jwk())
    assert again == a.public_key and again.kid == a.kid
    assert a.public_key.to_jwk() == {"crv": "Ed25519", "kty": "OKP", "x": b64url_encode(again.raw)}


def test_signature_verifies_and_tampering_fails() -> None:
    key = PrivateKey.from_seed(bytes(range(32)))
    signature = key.sign(b"payload")
    key.public_key.verify(signature, b"payload")
    with pytest.raises(VerificationError, match="does not verify"):
        key.public_key.verify(signature, b"payloaD")
    with pytest.raises(VerificationError, match="64 bytes"):
        key.public_key.verify(signature[:-1], b"payload")
    other = PrivateKey.from_seed(bytes(32)).public_key
    with pytest.raises(VerificationError):
        other.verify(signature, b"payload")


@pytest.mark.parametrize(
    ("jwk", "message"),
    [
        ({"kty": "RSA", "n": "AQAB", "e": "AQAB"}, "kty must be 'OKP'"),
        ({"kty": "OKP", "crv": "X25519", "x": RFC8037_X}, "crv must be 'Ed25519'"),
        ({"kty": "OKP", "crv": "Ed25519"}, "lacks 'x'"),
        ({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X + "="}, "padding"),
        ({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X[:-1] + "p"}, "trailing bits"),
        ({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X.replace("_", "/")}, "not base64url"),
        ({"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(bytes(31))}, "32 bytes"),
        ({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X, "d": RFC8037_D}, "private key"),
    ],
)
def test_bad_jwks_are_refused(jwk: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidKeyError, match=message):
        PublicKey.from_jwk(jwk)


def test_a_jwk_must_be_an_object() -> None:
    with pytest.raises(InvalidKeyError, match="JSON object"):
        PublicKey.from_jwk(["not", "a", "jwk"])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("QQ==", "padding"),
        ("Q", "impossible base64url length"),
        ("QR", "trailing bits"),
        ("QUI+", "not base64url"),
        ("QU I", "not base64url"),
        ("QUé", "not base64url"),
    ],
)
def test_b64url_decode_is_strict(text: str, message: str) -> None:
    with pytest.raises(MalformedError, match=message):
        b64url_decode(text)


def test_b64url_round_trip() -> None:
    for n in range(70):
        data = bytes(range(n))
        assert b64url_decode(b64url_encode(data)) == data


PASSPHRASE = b"correct horse battery staple"


def test_pkcs8_round_trip() -> None:
    key = PrivateKey.generate()
    pem = key.to_pkcs8_pem(passphrase=PASSPHRASE)
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    again = PrivateKey.from_pkcs8_pem(pem, passphrase=PASSPHRASE)
    assert again.kid == key.kid
    assert again.sign(b"x") == key.sign(b"x")


def test_pkcs8_wrong_passphrase() -> None:
    pem = PrivateKey.generate().to_pkcs8_pem(passphrase=PASSPHRASE)
    with pytest.raises(InvalidKeyError, match="wrong passphrase"):
        PrivateKey.from_pkcs8_pem(pem, passphrase=b"wrong")


def test_pkcs8_garbage() -> None:
    with pytest.raises(InvalidKeyError, match="cannot open the private key"):
        PrivateKey.from_pkcs8_pem(b"-----BEGIN NOTHING-----\ngarbage\n", passphrase=PASSPHRASE)


def test_pkcs8_unencrypted_key_is_refused() -> None:
    clear = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(InvalidKeyError, match="not encrypted"):
        PrivateKey.from_pkcs8_pem(clear, passphrase=PASSPHRASE)


def test_pkcs8_other_key_type_is_refused() -> None:
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(PASSPHRASE),
    )
    with pytest.raises(InvalidKeyError, match="not Ed25519"):
        PrivateKey.from_pkcs8_pem(pem, passphrase=PASSPHRASE)


def test_empty_passphrases_are_refused() -> None:
    key = PrivateKey.generate()
    with pytest.raises(InvalidKeyError, match="passphrase is required"):
        key.to_pkcs8_pem(passphrase=b"")
    with pytest.raises(InvalidKeyError, match="passphrase is required"):
        PrivateKey.from_pkcs8_pem(key.to_pkcs8_pem(passphrase=PASSPHRASE), passphrase=b"")


def test_private_key_repr_shows_only_the_kid() -> None:
    key = PrivateKey.from_seed(b64url_decode(RFC8037_D))
    assert repr(key) == f"PrivateKey(kid='{RFC8037_KID}')"
    assert RFC8037_D not in repr(key)


# --- KeyRecord.check_usable --------------------------------------------------------

T = datetime(2026, 6, 1, tzinfo=UTC)
DAY = timedelta(days=1)
PUBLIC = PrivateKey.from_seed(bytes(range(32))).public_key


def record(**kwargs: Any) -> KeyRecord:
    return KeyRecord(PUBLIC, body="CQC", **kwargs)


@pytest.mark.parametrize(
    ("key", "signed_at", "recorded_at", "refusal"),
    [
        pytest.param(record(), T, None, None, id="unbounded-active"),
        pytest.param(record(not_before=T), T, None, None, id="at-not_before"),
        pytest.param(record(not_before=T), T - DAY, None, "not yet valid", id="before-window"),
        pytest.param(record(not_after=T), T, None, None, id="at-not_after"),
        pytest.param(record(not_after=T), T + DAY, None, "had expired", id="after-window"),
        pytest.param(
            record(not_before=T - DAY, not_after=T + DAY, state=KeyState.RETIRED),
            T,
            None,
            None,
            id="retired-inside-window",
        ),
        pytest.param(
            record(not_after=T, state=KeyState.RETIRED),
            T + DAY,
            None,
            "had expired",
            id="retired-after-window",
        ),
        pytest.param(
            record(state=KeyState.COMPROMISED, compromised_at=T),
            T - DAY,
            None,
            None,
            id="signed-before-compromise",
        ),
        pytest.param(
            record(state=KeyState.COMPROMISED, compromised_at=T),
            T,
            None,
            "compromised",
            id="signed-at-compromise",
        ),
        pytest.param(
            record(state=KeyState.COMPROMISED, compromised_at=T),
            T + DAY,
            None,
            "compromised",
            id="signed-after-compromise",
        ),
        pytest.param(
            record(state=KeyState.COMPROMISED, compromised_at=T),
            T - DAY,
            T - DAY / 2,
            None,
            id="recorded-before-compromise",
        ),
        pytest.param(
            record(state=KeyState.COMPROMISED, compromised_at=T),
            T - DAY,
            T + DAY,
            "before the registry recorded",
            id="backdated-but-recorded-after-compromise",
        ),
        pytest.param(record(), T, T + 100 * DAY, None, id="recorded-late-active-key"),
    ],
)
def test_check_usable(
    key: KeyRecord, signed_at: datetime, recorded_at: datetime | None, refusal: str | None
) -> None:
    if refusal is None:
        key.check_usable(signed_at, recorded_at=recorded_at)
    else:
        with pytest.raises(KeyNotUsableError, match=refusal):
            key.check_usable(signed_at, recorded_at=recorded_at)


def test_check_usable_refuses_naive_instants() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        record().check_usable(datetime(2026, 1, 1))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"state": KeyState.COMPROMISED}, "compromised_at is required"),
        ({"compromised_at": T}, "compromised_at is required"),
        ({"not_before": T, "not_after": T - DAY}, "not_after is before not_before"),
        ({"not_before": datetime(2026, 1, 1)}, "UTC offset"),
    ],
)
def test_inconsistent_key_records_are_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidKeyError, match=message):
        record(**kwargs)

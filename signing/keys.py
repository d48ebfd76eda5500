"""Ed25519 keys (RFC 8032), their JWK form (RFC 8037) and key ids (RFC 7638).

A `PublicKey` alone only answers "does this signature hold". Whether a
signature *counts* depends on the key's record in the registry: its validity
window, its state and when it was compromised (PRODUCT §3, "Keys"). That is
`KeyRecord.check_usable`, always judged at the document's ``signed_at``, not
at ``issued_on`` or ``effective_at``: a body that joins the registry signs its
older certificates, and later decisions, with today's key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from signing.errors import (
    InvalidKeyError,
    KeyNotUsableError,
    MalformedError,
    VerificationError,
)
from signing.instants import format_instant, require_aware
from signing.jcs import canonical_bytes

__all__ = [
    "KeyRecord",
    "KeyState",
    "PrivateKey",
    "PublicKey",
    "b64url_decode",
    "b64url_encode",
]

# RFC 7515 §2 "Base64url Encoding": URL-safe alphabet, no padding.
_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")
_B64URL_INDEX = {
    c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
}

ED25519_SIGNATURE_LENGTH = 64
ED25519_KEY_LENGTH = 32


def b64url_encode(data: bytes) -> str:
    """base64url without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str, what: str = "value") -> bytes:
    """Decode base64url without padding, strictly.

    Only one text decodes to given bytes: padding ``=``, characters outside the
    URL-safe alphabet, an impossible length and non-zero unused trailing bits
    are all refused (RFC 4648 §3.5 lets decoders reject the latter; accepting
    them would give one token several spellings).

    Raises:
        MalformedError: ``text`` is not canonical base64url (callers wrap it
            for their context, e.g. as `InvalidKeyError`).
    """
    if not isinstance(text, str):
        raise MalformedError(f"{what} is not base64url: got {type(text).__name__}")
    try:
        data = text.encode("ascii")
    except UnicodeEncodeError as e:
        raise MalformedError(f"{what} is not base64url (allowed: A-Z a-z 0-9 - _)") from e
    if b"=" in data:
        raise MalformedError(f"{what} is base64url with padding '='; padding is not allowed")
    # "+" and "/" belong to standard base64 (RFC 4648 §4), not to base64url;
    # the translation below would let them through.
    if b"+" in data or b"/" in data:
        raise MalformedError(f"{what} is not base64url (allowed: A-Z a-z 0-9 - _)")
    rem = len(data) % 4
    if rem == 1:
        if any(c not in _B64URL_INDEX for c in text):
            raise MalformedError(f"{what} is not base64url (allowed: A-Z a-z 0-9 - _)")
        raise MalformedError(f"{what} has an impossible base64url length {len(data)}")
    if rem and _B64URL_INDEX.get(text[-1], 0) & (0b11 if rem == 3 else 0b1111):
        # The last character carries 2 (rem 3) or 4 (rem 2) unused low bits.
        raise MalformedError(f"{what} is not canonical base64url (non-zero trailing bits)")
    try:
        # strict_mode (Python 3.11) refuses any character outside the alphabet.
        return binascii.a2b_base64(
            data.translate(_FROM_URLSAFE) + b"=" * (-len(data) % 4), strict_mode=True
        )
    except binascii.Error as e:
        raise MalformedError(f"{what} is not base64url (allowed: A-Z a-z 0-9 - _)") from e


class PublicKey:
    """An Ed25519 public key.

    Build it with `from_jwk` or `from_raw`; its ``kid`` is the RFC 7638 thumbprint.
    """

    __slots__ = ("_key", "_raw", "kid")

    _key: Ed25519PublicKey
    _raw: bytes
    kid: str

    def __init__(self, key: Ed25519PublicKey) -> None:
        self._key = key
        self._raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        # RFC 7638 §3.2: the thumbprint input is the JSON object of the required
        # members only (for OKP, RFC 8037 §2: crv, kty, x), in lexicographic
        # order with no whitespace, which for these ASCII members is exactly
        # the RFC 8785 form. SHA-256 and base64url without padding (§3.1).
        thumbprint_input = canonical_bytes(
            {"crv": "Ed25519", "kty": "OKP", "x": b64url_encode(self._raw)}
        )
        self.kid = b64url_encode(hashlib.sha256(thumbprint_input).digest())

    @classmethod
    def from_raw(cls, raw: bytes) -> PublicKey:
        """The key from its 32-byte RFC 8032 encoding.

        Raises:
            InvalidKeyError: not 32 bytes.
        """
        if not isinstance(raw, bytes | bytearray) or len(raw) != ED25519_KEY_LENGTH:
            length = len(raw) if isinstance(raw, bytes | bytearray) else type(raw).__name__
            raise InvalidKeyError(f"an Ed25519 public key is 32 bytes, got {length}")
        try:
            return cls(Ed25519PublicKey.from_public_bytes(bytes(raw)))
        except ValueError as e:  # pragma: no cover - pyca accepts every 32-byte string
            raise InvalidKeyError(f"not an Ed25519 public key: {e}") from e

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> PublicKey:
        """The key from a public JWK (RFC 8037 §2: ``kty`` OKP, ``crv`` Ed25519, ``x``).

        Other members (``kid``, ``use``, ``alg``, ...) are not looked at here;
        `signing.jwks.KeySet` checks them.

        Raises:
            InvalidKeyError: not a mapping, wrong ``kty`` or ``crv``, ``x`` not
                canonical base64url of 32 bytes, or a private member ``d``
                (a private key must never travel in a key set).
        """
        if not isinstance(jwk, Mapping):
            raise InvalidKeyError(f"a JWK is a JSON object, got {type(jwk).__name__}")
        if jwk.get("kty") != "OKP":
            raise InvalidKeyError(f"JWK kty must be 'OKP' (RFC 8037), got {jwk.get('kty')!r}")
        if jwk.get("crv") != "Ed25519":
            raise InvalidKeyError(f"JWK crv must be 'Ed25519', got {jwk.get('crv')!r}")
        if "d" in jwk:
            raise InvalidKeyError("JWK contains a private key ('d'); publish only the public key")
        x = jwk.get("x")
        if not isinstance(x, str):
            raise InvalidKeyError("JWK lacks 'x' (the base64url public key)")
        try:
            raw = b64url_decode(x, "JWK x")
        except MalformedError as e:
            raise InvalidKeyError(str(e)) from e
        return cls.from_raw(raw)

    @property
    def raw(self) -> bytes:
        """The 32-byte RFC 8032 encoding."""
        return self._raw

    def to_jwk(self) -> dict[str, str]:
        """The public JWK ``{"crv": "Ed25519", "kty": "OKP", "x": ...}``."""
        return {"crv": "Ed25519", "kty": "OKP", "x": b64url_encode(self._raw)}

    def verify(self, signature: bytes, data: bytes) -> None:
        """Check an Ed25519 signature (RFC 8032 §5.1.7) over ``data``.

        Raises:
            VerificationError: the signature is not 64 bytes or does not hold.
        """
        if len(signature) != ED25519_SIGNATURE_LENGTH:
            raise VerificationError(
                f"an Ed25519 signature is 64 bytes, got {len(signature)} (key {self.kid})"
            )
        try:
            self._key.verify(signature, data)
        except InvalidSignature as e:
            raise VerificationError(f"signature does not verify under key {self.kid}") from e

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PublicKey) and other._raw == self._raw

    def __hash__(self) -> int:
        return hash(self._raw)

    def __repr__(self) -> str:
        return f"PublicKey(kid={self.kid!r})"


class PrivateKey:
    """An Ed25519 private key. Never logged: its repr shows only the kid."""

    __slots__ = ("_key", "public_key")

    _key: Ed25519PrivateKey
    public_key: PublicKey

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key
        self.public_key = PublicKey(key.public_key())

    @classmethod
    def generate(cls) -> PrivateKey:
        """A new random key (from the operating system's CSPRNG, via pyca)."""
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_seed(cls, seed: bytes) -> PrivateKey:
        """The key from its 32-byte RFC 8032 seed (for test vectors and fixtures).

        Raises:
            InvalidKeyError: not 32 bytes.
        """
        if not isinstance(seed, bytes | bytearray) or len(seed) != ED25519_KEY_LENGTH:
            raise InvalidKeyError("an Ed25519 private key seed is 32 bytes")
        return cls(Ed25519PrivateKey.from_private_bytes(bytes(seed)))

    @classmethod
    def from_pkcs8_pem(cls, pem: bytes, *, passphrase: bytes) -> PrivateKey:
        """Load an encrypted PKCS#8 PEM key (as written by `to_pkcs8_pem`).

        Raises:
            InvalidKeyError: wrong passphrase, not a PEM private key, a key that
                is not encrypted (keys at rest are always encrypted, PRODUCT §3),
                or a key of another type than Ed25519.
        """
        if not passphrase:
            raise InvalidKeyError("a passphrase is required to open a private key")
        try:
            key = serialization.load_pem_private_key(pem, password=passphrase)
        except TypeError as e:
            # pyca raises TypeError when a password is given for a clear key.
            raise InvalidKeyError("the private key file is not encrypted; refusing it") from e
        except ValueError as e:
            # pyca does not tell a wrong passphrase from a damaged file apart.
            raise InvalidKeyError(
                "cannot open the private key: wrong passphrase or not a PKCS#8 PEM key"
            ) from e
        except UnsupportedAlgorithm as e:
            raise InvalidKeyError(f"unsupported private key: {e}") from e
        if not isinstance(key, Ed25519PrivateKey):
            raise InvalidKeyError(
                f"the private key is {type(key).__name__.removeprefix('_')}, not Ed25519"
            )
        return cls(key)

    def to_pkcs8_pem(self, *, passphrase: bytes) -> bytes:
        """The key as encrypted PKCS#8 PEM (pyca's best available encryption).

        Raises:
            InvalidKeyError: empty passphrase.
        """
        if not passphrase:
            raise InvalidKeyError("a passphrase is required to write a private key")
        return self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(passphrase),
        )

    @property
    def kid(self) -> str:
        """The RFC 7638 thumbprint of the public key."""
        return self.public_key.kid

    def seed(self) -> bytes:
        """The 32-byte RFC 8032 seed, the inverse of `from_seed`.

        For handing the key to a worker process of the same program (the bulk
        importer signs in one); never write it anywhere.
        """
        return self._key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )

    def sign(self, data: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``data`` (deterministic, RFC 8032 §5.1.6)."""
        return self._key.sign(data)

    def __repr__(self) -> str:
        return f"PrivateKey(kid={self.kid!r})"


class KeyState(StrEnum):
    """A key's state in the registry (PRODUCT §3)."""

    #: Signs new documents.
    ACTIVE = "active"
    #: Signs no more; documents signed inside its window still count.
    RETIRED = "retired"
    #: Stolen or lost: documents signed (or recorded) from ``compromised_at`` on do not count.
    COMPROMISED = "compromised"


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """A public key with what the registry knows about it.

    ``body`` is the code of the certification body that owns the key
    (``"registry"`` for the registry's own key), or None for a key from a plain
    JWKS, bound to no body. ``not_before``/``not_after`` bound the key's window
    (inclusive; None means unbounded).

    Raises:
        InvalidKeyError: (on construction) naive datetimes, ``not_after``
            before ``not_before``, or ``compromised_at`` given without state
            compromised or missing with it.
    """

    public_key: PublicKey
    body: str | None = None
    not_before: datetime | None = None
    not_after: datetime | None = None
    state: KeyState = KeyState.ACTIVE
    compromised_at: datetime | None = None
    #: The leaf index of the transparency log's key statement that marked the
    #: key compromised, when known: a document logged after it does not count,
    #: whatever ``signed_at`` it claims (PRODUCT §3).
    compromise_index: int | None = None

    def __post_init__(self) -> None:
        for name in ("not_before", "not_after", "compromised_at"):
            value = getattr(self, name)
            if value is not None and (value.tzinfo is None or value.utcoffset() is None):
                raise InvalidKeyError(f"key {self.kid}: {name} must carry a UTC offset")
        if self.not_before and self.not_after and self.not_after < self.not_before:
            raise InvalidKeyError(f"key {self.kid}: not_after is before not_before")
        if (self.state is KeyState.COMPROMISED) != (self.compromised_at is not None):
            raise InvalidKeyError(
                f"key {self.kid}: compromised_at is required with state 'compromised' "
                "and only with it"
            )
        if self.compromise_index is not None and (
            self.compromised_at is None or self.compromise_index < 0
        ):
            raise InvalidKeyError(
                f"key {self.kid}: compromise_index is a leaf index, given only with compromised_at"
            )

    def compromised_by(self, compromised_at: datetime, index: int) -> KeyRecord:
        """This key as marked compromised by the log's key statement at leaf ``index``.

        What the log says only ever takes trust away: the earlier of the two
        ``compromised_at`` and the earlier of the two statement indexes hold.

        Raises:
            InvalidKeyError: a naive ``compromised_at`` or a negative index.
        """
        at = (
            compromised_at
            if self.compromised_at is None
            else min(self.compromised_at, compromised_at)
        )
        first = index if self.compromise_index is None else min(self.compromise_index, index)
        return replace(self, state=KeyState.COMPROMISED, compromised_at=at, compromise_index=first)

    @property
    def kid(self) -> str:
        """The RFC 7638 thumbprint of the public key."""
        return self.public_key.kid

    def check_usable(
        self,
        signed_at: datetime,
        *,
        recorded_at: datetime | None = None,
        log_index: int | None = None,
    ) -> None:
        """Check that a signature made at ``signed_at`` with this key counts.

        Since a thief of a key can write any ``signed_at``, a compromised
        key's documents also stop counting by when the registry took them
        (PRODUCT §3): ``log_index`` is the document's leaf index in the
        transparency log, when known, and a document logged after the key
        statement that marked the key compromised (``compromise_index``) does
        not count. ``recorded_at`` is when the registry recorded the document,
        when known: one recorded after ``compromised_at`` does not count
        either (a compromise dated back before its statement). A retired key
        still counts for documents signed inside its window: retired means it
        signs no more.

        Raises:
            KeyNotUsableError: ``signed_at`` outside [``not_before``, ``not_after``];
                the key compromised at or before ``signed_at``; logged after
                the compromise statement; or compromised before ``recorded_at``.
            ValueError: a naive datetime.
        """
        require_aware(signed_at, "signed_at")
        if recorded_at is not None:
            require_aware(recorded_at, "recorded_at")
        if self.not_before is not None and signed_at < self.not_before:
            raise KeyNotUsableError(
                f"key {self.kid} was not yet valid at signed_at {format_instant(signed_at)} "
                f"(valid from {format_instant(self.not_before)})"
            )
        if self.not_after is not None and signed_at > self.not_after:
            raise KeyNotUsableError(
                f"key {self.kid} had expired at signed_at {format_instant(signed_at)} "
                f"(valid until {format_instant(self.not_after)})"
            )
        if self.compromised_at is not None:
            if signed_at >= self.compromised_at:
                raise KeyNotUsableError(
                    f"key {self.kid} was compromised at {format_instant(self.compromised_at)}; "
                    f"a document signed at {format_instant(signed_at)} does not count"
                )
            if (
                log_index is not None
                and self.compromise_index is not None
                and log_index > self.compromise_index
            ):
                raise KeyNotUsableError(
                    f"key {self.kid} was marked compromised by log entry "
                    f"{self.compromise_index}; a document logged after it (entry {log_index}) "
                    "does not count"
                )
            if recorded_at is not None and recorded_at > self.compromised_at:
                raise KeyNotUsableError(
                    f"key {self.kid} was compromised at {format_instant(self.compromised_at)}, "
                    f"before the registry recorded the document at {format_instant(recorded_at)}"
                )

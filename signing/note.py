"""C2SP signed notes (https://c2sp.org/signed-note) with Ed25519 signatures.

A note is a text ending in a newline, a blank line, and signature lines
``— <key name> <base64(key ID || signature)>`` (em dash U+2014). The
registry signs its log checkpoints this way (PRODUCT §3, "The transparency
log, exactly"), so that the Go tooling of the transparency ecosystem
(golang.org/x/mod/sumdb/note, transparency-dev) can check them too.

By hand, because the format is a few lines of text and no maintained Python
library implements it; the keys and Ed25519 are `signing.keys` (pyca).
Tested with the spec's own example and the sumdb/note test key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from typing import Final

from signing.errors import InvalidKeyError, MalformedError, UnknownKeyError, VerificationError
from signing.keys import ED25519_KEY_LENGTH, ED25519_SIGNATURE_LENGTH, PrivateKey, PublicKey

__all__ = [
    "ED25519_SIGNATURE_TYPE",
    "MAX_SIGNATURES",
    "NoteSignature",
    "NoteSigner",
    "NoteVerifier",
    "SignedNote",
    "decode_base64",
    "open_note",
    "sign_note",
    "verify_note",
]

#: signed-note "Signature types": 0x01 is Ed25519 over the note text.
ED25519_SIGNATURE_TYPE: Final = 0x01
#: signed-note "Format": verifiers MUST accept at least 16 signatures and
#: SHOULD limit them; 100 is golang.org/x/mod/sumdb/note's limit.
MAX_SIGNATURES: Final = 100

_SIGNATURE_PREFIX: Final = "— "  # em dash U+2014, space
_KEY_ID_LENGTH: Final = 4


def decode_base64(text: str, what: str) -> bytes:
    """Decode standard base64 with padding (RFC 4648 §4), canonical only.

    c2sp.org/tlog-checkpoint: "decoders MUST reject non-canonical encodings"
    (RFC 4648 §3.5): one value, one spelling.

    Raises:
        MalformedError: not canonical standard base64.
    """
    try:
        data = binascii.a2b_base64(text.encode("ascii"), strict_mode=True)
    except (UnicodeEncodeError, binascii.Error) as e:
        raise MalformedError(f"{what} is not standard base64") from e
    if base64.b64encode(data).decode("ascii") != text:
        raise MalformedError(f"{what} is not canonical base64")
    return data


def _check_key_name(name: str) -> None:
    # signed-note "Format": "Key names MUST be non-empty and MUST NOT contain
    # any Unicode spaces or plus (U+002B) characters." (and, as all of a note,
    # no ASCII control characters).
    if not name:
        raise MalformedError("a note key name is empty")
    if any(c.isspace() or c == "+" or c < " " for c in name):
        raise MalformedError(f"the note key name {name!r} contains a space, '+' or a control")


def _key_id(name: str, public_key: PublicKey) -> bytes:
    # signed-note "Ed25519 signatures": key ID =
    # SHA-256(key name || 0x0A || 0x01 || 32-byte public key)[:4]
    material = name.encode("utf-8") + b"\n" + bytes([ED25519_SIGNATURE_TYPE]) + public_key.raw
    return hashlib.sha256(material).digest()[:_KEY_ID_LENGTH]


def _key_material(text: str, what: str) -> bytes:
    """The 32 key bytes of ``base64(0x01 || key)`` in a verifier or signer key."""
    try:
        raw = decode_base64(text, what)
    except MalformedError as e:
        raise InvalidKeyError(str(e)) from e
    if len(raw) != 1 + ED25519_KEY_LENGTH or raw[0] != ED25519_SIGNATURE_TYPE:
        raise InvalidKeyError(f"{what} is not an Ed25519 key (0x01 and 32 bytes)")
    return raw[1:]


def _parse_key_id(text: str, what: str) -> bytes:
    if len(text) != 2 * _KEY_ID_LENGTH or text != text.lower():
        raise InvalidKeyError(f"{what} key ID must be 8 lowercase hex digits, got {text!r}")
    try:
        return bytes.fromhex(text)
    except ValueError as e:
        raise InvalidKeyError(f"{what} key ID must be 8 lowercase hex digits, got {text!r}") from e


@dataclass(frozen=True, slots=True)
class NoteVerifier:
    """A named Ed25519 public key that checks notes (the signed-note "vkey").

    Build it with `for_key` or `from_text`; its text form is
    ``<name>+<hex key ID>+<base64(0x01 || public key)>``.
    """

    name: str
    key_id: bytes
    public_key: PublicKey

    @classmethod
    def for_key(cls, name: str, public_key: PublicKey) -> NoteVerifier:
        """The verifier of ``public_key`` under ``name`` (for a log: its origin).

        Raises:
            MalformedError: ``name`` is not a valid key name.
        """
        _check_key_name(name)
        return cls(name=name, key_id=_key_id(name, public_key), public_key=public_key)

    @classmethod
    def from_text(cls, text: str) -> NoteVerifier:
        """Read a verifier key ``name+hex(keyid)+base64(0x01 || pubkey)``.

        Raises:
            InvalidKeyError: not three ``+``-separated parts, a bad name, a key
                that is not Ed25519, or a key ID that is not the key's.
        """
        # The name holds no "+"; the base64 key may (golang.org/x/mod/sumdb/note
        # cuts at the first two).
        parts = text.split("+", 2)
        if len(parts) != 3:
            raise InvalidKeyError("a note verifier key is name+keyid+key")
        name, id_hex, key_b64 = parts
        try:
            _check_key_name(name)
        except MalformedError as e:
            raise InvalidKeyError(str(e)) from e
        key_id = _parse_key_id(id_hex, "the verifier")
        verifier = cls.for_key(name, PublicKey.from_raw(_key_material(key_b64, "the verifier")))
        if verifier.key_id != key_id:
            raise InvalidKeyError(
                f"the verifier key ID {id_hex} is not the hash of its name and key "
                f"({verifier.key_id.hex()})"
            )
        return verifier

    def to_text(self) -> str:
        """The verifier key text (what ``GET /log/key`` answers)."""
        material = bytes([ED25519_SIGNATURE_TYPE]) + self.public_key.raw
        return f"{self.name}+{self.key_id.hex()}+{base64.b64encode(material).decode('ascii')}"


@dataclass(frozen=True, slots=True)
class NoteSigner:
    """A named Ed25519 private key that signs notes. Its repr shows no secret."""

    name: str
    key: PrivateKey

    def __post_init__(self) -> None:
        _check_key_name(self.name)

    @classmethod
    def from_text(cls, text: str) -> NoteSigner:
        """Read a signer key ``PRIVATE+KEY+name+hex(keyid)+base64(0x01 || seed)``.

        That is golang.org/x/mod/sumdb/note's format (``note.GenerateKey``).

        Raises:
            InvalidKeyError: not that form, or a key ID that is not the key's.
        """
        parts = text.split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise InvalidKeyError("a note signer key is PRIVATE+KEY+name+keyid+key")
        name, id_hex, key_b64 = parts[2:]
        try:
            signer = cls(name=name, key=PrivateKey.from_seed(_key_material(key_b64, "the signer")))
        except MalformedError as e:
            raise InvalidKeyError(str(e)) from e
        if signer.verifier.key_id != _parse_key_id(id_hex, "the signer"):
            raise InvalidKeyError(f"the signer key ID {id_hex} is not the hash of its name and key")
        return signer

    @property
    def verifier(self) -> NoteVerifier:
        """The matching verifier."""
        return NoteVerifier.for_key(self.name, self.key.public_key)


@dataclass(frozen=True, slots=True)
class NoteSignature:
    """One signature line: the key name, the 4-byte key ID and the signature bytes."""

    name: str
    key_id: bytes
    signature: bytes

    def to_line(self) -> str:
        """``— <name> <base64(key ID || signature)>`` and a newline."""
        encoded = base64.b64encode(self.key_id + self.signature).decode("ascii")
        return f"{_SIGNATURE_PREFIX}{self.name} {encoded}\n"


def _check_text(text: str) -> None:
    # signed-note "Format": valid UTF-8 (a str), no ASCII control characters
    # other than newline, and the text ends in a newline.
    if any(c < " " and c != "\n" for c in text):
        raise MalformedError("a note contains an ASCII control character other than newline")
    if not text.endswith("\n"):
        raise MalformedError("a note text ends with a newline")


@dataclass(frozen=True, slots=True)
class SignedNote:
    """A parsed, *unverified* note: its text and its signature lines.

    Never act on ``text`` before `verify_note` (or use `open_note`).
    """

    text: str
    signatures: tuple[NoteSignature, ...]

    @classmethod
    def parse(cls, note: str | bytes) -> SignedNote:
        """Split a note into its text and signatures.

        Raises:
            MalformedError: not UTF-8, a control character, no blank line
                before the signatures, a line in the signature block that is
                not a signature, a bad key name or base64, more than
                `MAX_SIGNATURES`, or two signatures with the same key name and
                key ID (c2sp.org/tlog-checkpoint "Signatures": MUST NOT).
        """
        if isinstance(note, bytes):
            try:
                note = note.decode("utf-8")
            except UnicodeDecodeError as e:
                raise MalformedError("a note is not valid UTF-8") from e
        _check_text(note)
        # "the text is separated from the signatures by the last empty line"
        split = note.rfind("\n\n")
        if split < 0:
            raise MalformedError("a note has no blank line before its signatures")
        text, block = note[: split + 1], note[split + 2 :]
        lines = block.split("\n")[:-1]  # the block ends with a newline (checked above)
        if not lines:
            raise MalformedError("a note has no signature lines")
        if len(lines) > MAX_SIGNATURES:
            raise MalformedError(f"a note has more than {MAX_SIGNATURES} signatures")
        signatures = []
        seen: set[tuple[str, bytes]] = set()
        for line in lines:
            signature = _parse_signature_line(line)
            if (signature.name, signature.key_id) in seen:
                raise MalformedError(
                    f"two signatures by {signature.name}+{signature.key_id.hex()} in one note"
                )
            seen.add((signature.name, signature.key_id))
            signatures.append(signature)
        return cls(text=text, signatures=tuple(signatures))

    def to_text(self) -> str:
        """The note as sent: text, blank line, signature lines."""
        return self.text + "\n" + "".join(s.to_line() for s in self.signatures)


def _parse_signature_line(line: str) -> NoteSignature:
    if not line.startswith(_SIGNATURE_PREFIX):
        raise MalformedError(f"not a note signature line: {line[:40]!r}")
    parts = line[len(_SIGNATURE_PREFIX) :].split(" ")
    if len(parts) != 2:
        raise MalformedError(f"a note signature line is '— <name> <signature>': {line[:40]!r}")
    name, encoded = parts
    _check_key_name(name)
    raw = decode_base64(encoded, f"the signature by {name}")
    # "Signatures are the base64 encoding of 4+n bytes."
    if len(raw) <= _KEY_ID_LENGTH:
        raise MalformedError(f"the signature by {name} is too short")
    return NoteSignature(name=name, key_id=raw[:_KEY_ID_LENGTH], signature=raw[_KEY_ID_LENGTH:])


def sign_note(text: str, *, signer: NoteSigner) -> str:
    """The signed note of ``text`` with one Ed25519 signature (deterministic, RFC 8032).

    Raises:
        MalformedError: ``text`` has a control character other than newline
            or does not end with a newline.
    """
    _check_text(text)
    verifier = signer.verifier
    signature = NoteSignature(
        name=signer.name, key_id=verifier.key_id, signature=signer.key.sign(text.encode("utf-8"))
    )
    return SignedNote(text=text, signatures=(signature,)).to_text()


def verify_note(note: SignedNote, *, verifier: NoteVerifier) -> None:
    """Check that ``verifier``'s key signed ``note``.

    signed-note "Signatures": signatures by unknown keys (another name, or
    another key ID) are ignored; a signature by the known key must verify, and
    without one the note is refused.

    Raises:
        UnknownKeyError: no signature line names the verifier's key.
        VerificationError: the verifier's signature does not hold.
    """
    mine = [s for s in note.signatures if s.name == verifier.name and s.key_id == verifier.key_id]
    if not mine:
        raise UnknownKeyError(f"the note is not signed by {verifier.name}+{verifier.key_id.hex()}")
    for signature in mine:  # one at most: `SignedNote.parse` refuses duplicates
        if len(signature.signature) != ED25519_SIGNATURE_LENGTH:
            raise VerificationError(f"the signature by {verifier.name} is not 64 bytes")
        try:
            verifier.public_key.verify(signature.signature, note.text.encode("utf-8"))
        except VerificationError as e:
            raise VerificationError(
                f"the note signature by {verifier.name}+{verifier.key_id.hex()} does not verify"
            ) from e


def open_note(note: str | bytes, *, verifier: NoteVerifier) -> str:
    """Parse ``note``, check ``verifier``'s signature, and answer the text.

    Raises:
        MalformedError: the note is not well formed (see `SignedNote.parse`).
        UnknownKeyError: no signature by the verifier's key.
        VerificationError: that signature does not hold.
    """
    parsed = SignedNote.parse(note)
    verify_note(parsed, verifier=verifier)
    return parsed.text

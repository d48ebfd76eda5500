"""Log checkpoints (https://c2sp.org/tlog-checkpoint): the signed head of the log.

The note text is ``<origin>\\n<tree size>\\n<base64 root hash>\\n`` and any
extension lines; the registry signs it as a signed note (`signing.note`) with
its own Ed25519 key, under the key name ``origin`` (PRODUCT §3, "The
transparency log, exactly").
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Final

from signing.errors import MalformedError, VerificationError
from signing.merkle import HASH_SIZE
from signing.note import NoteSigner, NoteVerifier, decode_base64, open_note, sign_note

__all__ = ["MAX_TREE_SIZE", "Checkpoint", "open_checkpoint", "sign_checkpoint"]

#: Tree sizes are unsigned 64-bit integers in RFC 6962 (§3.5 ``uint64 tree_size``).
MAX_TREE_SIZE: Final = 2**64 - 1

# tlog-checkpoint "Conventions": an ASCII decimal with no extra leading zeros.
_DECIMAL = re.compile(r"0|[1-9][0-9]*")


def _check_line(line: str, what: str) -> None:
    # Each line is non-empty, and a note holds no control characters
    # (c2sp.org/signed-note "Format").
    if not line:
        raise MalformedError(f"the checkpoint {what} is empty")
    if any(c < " " for c in line):
        raise MalformedError(f"the checkpoint {what} contains a newline or control character")


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A log's origin, tree size and RFC 6962 root hash, with optional extension lines.

    Raises:
        MalformedError: an empty or multi-line origin or extension, a size
            outside ``[0, 2**64)``, or a root that is not 32 bytes.
    """

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_line(self.origin, "origin")
        if not 0 <= self.size <= MAX_TREE_SIZE:
            raise MalformedError(f"a checkpoint tree size is in [0, 2**64), got {self.size}")
        if len(self.root) != HASH_SIZE:
            raise MalformedError(
                f"a checkpoint root hash is {HASH_SIZE} bytes, got {len(self.root)}"
            )
        for extension in self.extensions:
            # "Extension lines, if any, MUST be non-empty."
            _check_line(extension, "extension line")

    def to_text(self) -> str:
        """The note text: origin, size, base64 root, extension lines, each ending in a newline."""
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode("ascii")]
        return "".join(f"{line}\n" for line in [*lines, *self.extensions])

    @classmethod
    def from_text(cls, text: str) -> Checkpoint:
        """Read a checkpoint note text (already verified: see `open_checkpoint`).

        Raises:
            MalformedError: fewer than three lines, an empty line, a size that
                is not a canonical decimal, or a root that is not canonical
                base64 of 32 bytes.
        """
        if not text.endswith("\n"):
            raise MalformedError("a checkpoint ends with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise MalformedError("a checkpoint has an origin, a tree size and a root hash")
        origin, size_text, root_text, *extensions = lines
        if not _DECIMAL.fullmatch(size_text):
            raise MalformedError(f"the checkpoint tree size {size_text[:24]!r} is not a decimal")
        root = decode_base64(root_text, "the checkpoint root hash")
        return cls(origin=origin, size=int(size_text), root=root, extensions=tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, *, signer: NoteSigner) -> str:
    """The checkpoint as a signed note, signed under the log's origin.

    Raises:
        MalformedError: ``signer``'s key name is not the checkpoint's origin
            (the signature line must read ``— <origin> ...``).
    """
    if signer.name != checkpoint.origin:
        raise MalformedError(
            f"a checkpoint of {checkpoint.origin!r} is signed under that name, not {signer.name!r}"
        )
    return sign_note(checkpoint.to_text(), signer=signer)


def open_checkpoint(note: str | bytes, *, verifier: NoteVerifier) -> Checkpoint:
    """Verify a signed checkpoint with the log's key, then read it.

    The signature is checked before the text is parsed, and the checkpoint's
    origin must be the verifier's key name: a checkpoint of another log,
    signed by the right key, is not this log's.

    Raises:
        MalformedError: the note or the checkpoint is not well formed.
        UnknownKeyError: the note has no signature by ``verifier``'s key.
        VerificationError: the signature does not hold, or the origin is not
            the verifier's name.
    """
    checkpoint = Checkpoint.from_text(open_note(note, verifier=verifier))
    if checkpoint.origin != verifier.name:
        raise VerificationError(
            f"the checkpoint is for {checkpoint.origin!r}, the key for {verifier.name!r}"
        )
    return checkpoint

"""The errors `signing` raises.

Every malformed token, key or payload surfaces as one of these, never as a
bare exception of a dependency (``json``, ``binascii``, ``cryptography``,
``rfc8785``): callers map one small tree to verdicts and HTTP answers.

::

    SigningError
    ├── MalformedError              the input cannot be read as what it claims to be
    │   ├── InvalidPayloadError     a payload breaks the rules (carries FieldProblems)
    │   ├── InvalidKeyError         a key or key set cannot be used as one
    │   └── TreeRangeError          a leaf index or tree size outside the log's tree
    ├── UnverifiedSignatureError    no trust can be derived from the signature
    │   ├── VerificationError       the signature does not hold
    │   │   └── ProofError          a Merkle inclusion or consistency proof does not hold
    │   ├── UnknownKeyError         no key with that kid
    │   └── KeyNotUsableError       the key exists but does not count for this document
    └── TransitionError             a change of status or revision that the rules refuse
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "FieldProblem",
    "InvalidKeyError",
    "InvalidPayloadError",
    "KeyNotUsableError",
    "MalformedError",
    "ProofError",
    "SigningError",
    "TransitionError",
    "TreeRangeError",
    "UnknownKeyError",
    "UnverifiedSignatureError",
    "VerificationError",
]


class SigningError(Exception):
    """Base of every error raised by `signing`."""


class MalformedError(SigningError):
    """The input (token, JSON, key, instant...) is not well formed."""


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One problem with one field of a payload, e.g. ``holder.uscc``.

    ``field`` is a dotted path into the JSON (``sites[2]`` for list items);
    ``message`` is a sentence a person can act on.
    """

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class InvalidPayloadError(MalformedError):
    """A payload that reads as JSON but breaks the rules.

    Carries *all* the problems found, so that an API can answer 422 naming
    every field at once instead of one per round trip.
    """

    problems: tuple[FieldProblem, ...]

    def __init__(self, problems: Iterable[FieldProblem]) -> None:
        self.problems = tuple(problems)
        if not self.problems:
            raise ValueError("InvalidPayloadError needs at least one problem")
        super().__init__("; ".join(str(p) for p in self.problems))

    @classmethod
    def single(cls, field: str, message: str) -> InvalidPayloadError:
        """An error with exactly one problem."""
        return cls([FieldProblem(field, message)])


class InvalidKeyError(MalformedError):
    """A key, JWK or JWKS that cannot be used (wrong type, bad encoding, wrong passphrase...)."""


class TreeRangeError(MalformedError):
    """A leaf index or tree size that the Merkle tree does not have.

    Asking for the proof of leaf 10 in a tree of 5, a consistency proof from a
    larger size to a smaller one, or a size the store has no hashes for yet.
    """


class UnverifiedSignatureError(SigningError):
    """Nothing can be trusted: the signature failed or its key does not count."""


class VerificationError(UnverifiedSignatureError):
    """The signature does not verify under the key."""


class ProofError(VerificationError):
    """A Merkle inclusion or consistency proof does not hold (RFC 9162 §2.1.3.2, §2.1.4.2).

    The leaf is not in the tree the root claims, or the newer tree does not
    extend the older one: whoever served the proof cannot be trusted for it.
    """


class UnknownKeyError(UnverifiedSignatureError):
    """No key with the token's ``kid`` is known."""


class KeyNotUsableError(UnverifiedSignatureError):
    """The key is known but does not count for this document.

    It was outside its validity window at ``signed_at``, or compromised before
    the document was signed or recorded (PRODUCT §3, "Keys").
    """


class TransitionError(SigningError):
    """A new status event or revision that the rules refuse (HTTP 409 in the registry)."""

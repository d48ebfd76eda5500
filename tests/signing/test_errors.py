"""The error tree: what callers catch to tell a verdict apart."""

from __future__ import annotations

import pytest

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


def test_tree() -> None:
    assert issubclass(InvalidPayloadError, MalformedError)
    assert issubclass(InvalidKeyError, MalformedError)
    for kind in (VerificationError, UnknownKeyError, KeyNotUsableError):
        assert issubclass(kind, UnverifiedSignatureError)
    for kind in (MalformedError, UnverifiedSignatureError, TransitionError):
        assert issubclass(kind, SigningError)
    assert not issubclass(UnverifiedSignatureError, MalformedError)


def test_invalid_payload_error_carries_every_problem() -> None:
    err = InvalidPayloadError(
        [FieldProblem("holder.uscc", "check character is wrong"), FieldProblem("level", "bad")]
    )
    assert [p.field for p in err.problems] == ["holder.uscc", "level"]
    assert str(err) == "holder.uscc: check character is wrong; level: bad"
    assert str(InvalidPayloadError.single("score", "too low")) == "score: too low"
    with pytest.raises(ValueError, match="at least one problem"):
        InvalidPayloadError([])

"""The log tests use the verification tests' body (a body with a hosted key and a token)."""

from tests.registry.verification.conftest import body

__all__ = ["body"]

"""Who is acting: a body's token, an operator token or the local command line."""

from __future__ import annotations

from dataclasses import dataclass

from registry.errors import ForbiddenError


@dataclass(frozen=True)
class Principal:
    #: For the audit log: `token:<prefix>` or `cli`; never a secret.
    actor: str
    #: The body this principal acts for; None for an operator.
    body_code: str | None
    is_operator: bool = False
    request_id: str | None = None

    @classmethod
    def cli(cls, *, body_code: str | None = None) -> Principal:
        """The local command line: it holds the database, so it may do anything."""
        return cls(actor="cli", body_code=body_code, is_operator=body_code is None)

    def require_operator(self) -> None:
        if not self.is_operator:
            raise ForbiddenError("this needs an operator token")

    def require_operator_or_body(self, code: str) -> None:
        """An operator, or the body `code` itself (its own tokens and keys; the console)."""
        if not self.is_operator and self.body_code != code:
            raise ForbiddenError(
                f"this acts for {self.body_code or 'nobody'}, not for certification body {code}"
            )

    def require_body(self, code: str) -> None:
        """A body can never touch another body's certificates (PRODUCT §4: 403)."""
        if self.body_code != code:
            raise ForbiddenError(
                f"this token acts for {self.body_code or 'the operator'}, "
                f"not for certification body {code}"
            )

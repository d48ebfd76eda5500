"""The registry's own error tree.

Services raise these, never HTTP exceptions; `registry.problems` maps them to
RFC 9457 problem details for the API and to an HTML page for people.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    #: Dotted path of the offending field, e.g. `holder.uscc`.
    field: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class RegistryError(Exception):
    status_code = 500
    title = "Internal error"
    #: Problem type slug: `https://starmark.example/problems/{slug}` in responses.
    slug = "internal"

    def __init__(self, detail: str, *, errors: Sequence[FieldError] = ()) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = tuple(errors)


class MalformedRequestError(RegistryError):
    status_code = 400
    title = "Unreadable request"
    slug = "malformed-request"


class UnauthorizedError(RegistryError):
    status_code = 401
    title = "Missing or invalid token"
    slug = "unauthorized"


class ForbiddenError(RegistryError):
    status_code = 403
    title = "Not allowed"
    slug = "forbidden"


class NotFoundError(RegistryError):
    status_code = 404
    title = "Not found"
    slug = "not-found"


class ConflictError(RegistryError):
    status_code = 409
    title = "Conflict"
    slug = "conflict"


class PayloadTooLargeError(RegistryError):
    status_code = 413
    title = "Request too large"
    slug = "too-large"


class InvalidInputError(RegistryError):
    status_code = 422
    title = "Invalid input"
    slug = "invalid-input"

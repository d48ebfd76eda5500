"""The registry's own error tree.

Services raise these, never HTTP exceptions; `registry.problems` maps them to
RFC 9457 problem details for the API and to an HTML page for people.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

import msgspec
from litestar.openapi.datastructures import ResponseSpec


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

    @property
    def headers(self) -> dict[str, str]:
        """Response headers this error's answer carries."""
        return {}

    @property
    def page_context(self) -> dict[str, object]:
        """What the HTML page of this error shows besides its detail (see `registry.problems`)."""
        return {}


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


class GoneError(RegistryError):
    status_code = 410
    title = "Gone"
    slug = "gone"


class PayloadTooLargeError(RegistryError):
    status_code = 413
    title = "Request too large"
    slug = "too-large"


class InvalidInputError(RegistryError):
    status_code = 422
    title = "Invalid input"
    slug = "invalid-input"


class RateLimitedError(RegistryError):
    status_code = 429
    title = "Too many requests"
    slug = "rate-limited"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        #: Seconds until the client's window opens again (RFC 9110 §10.2.3 Retry-After).
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


# --- how these errors are documented (`/schema`): the shape `registry.problems` writes

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://starmark.example/problems/"


class ProblemField(msgspec.Struct):
    field: Annotated[str, msgspec.Meta(description="dotted path, e.g. holder.uscc or items[3]")]
    message: str


class ProblemDetails(msgspec.Struct):
    """RFC 9457 problem details, as every error of the API is answered."""

    type: Annotated[str, msgspec.Meta(description=PROBLEM_BASE + "{slug}")]
    title: str
    status: int
    detail: Annotated[str, msgspec.Meta(description="what went wrong, for a person to act on")]
    instance: Annotated[str, msgspec.Meta(description="the path that was asked")]
    errors: Annotated[
        list[ProblemField] | msgspec.UnsetType,
        msgspec.Meta(description="each field that breaks a rule (422)"),
    ] = msgspec.UNSET


#: PRODUCT §4 "Errors": what each 4xx status means in this API.
PROBLEM_MEANINGS = {
    400: "Unreadable request (a body that is empty or not JSON)",
    401: "Missing or invalid token",
    403: "Another body's certificate, or not allowed for this token",
    404: "Unknown",
    409: "Conflict: a number already taken, a concurrent change, a state no longer held",
    410: "No longer offered: e.g. the mark of a certificate that is not valid now",
    413: "The request body is over 1 MiB",
    422: "The request reads but breaks a rule; `errors` names each field",
    429: "Too many requests from this address; `Retry-After` says how many seconds to wait",
}


def problem_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI `responses` for a handler: these 4xx answers are problem+json."""
    return {
        status: ResponseSpec(
            data_container=ProblemDetails,
            generate_examples=False,
            description=PROBLEM_MEANINGS[status],
            media_type=PROBLEM_JSON,
        )
        for status in statuses
    }

"""What the registry accepts from a request, before any handler or the database sees it.

PRODUCT §4 "Limits and hostile input". The rules themselves are `signing`'s,
so that the CLI and the offline verifier apply the same ones: JSON as
`signing.fields.read_json` reads it, text as `signing.fields.text_problem`
allows it, dates and instants as `signing.instants` parses them. This module
applies them to every request of the app:

- `CheckedRequest` reads JSON bodies with `read_json` (depth, duplicate
  members, lone surrogates, NUL: 400) instead of Litestar's decoder, which has
  no depth limit and keeps the last of two members of the same name. The
  1 MiB limit (413) stays Litestar's `request_max_body_size`.
- `refuse_impossible_parameters` (a `before_request` hook): a path parameter
  (certificate number, key id, body code) holding a character no identifier
  has is unknown (404) before it reaches the database, which may not even
  store it (PostgreSQL refuses NUL in text); a query parameter holding a
  control character is refused (422, naming it).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

from litestar import Request
from litestar.exceptions import ClientException
from litestar.types import Empty

from registry.errors import (
    FieldError,
    InvalidInputError,
    MalformedRequestError,
    NotFoundError,
    PayloadTooLargeError,
)
from signing.errors import MalformedError
from signing.fields import read_json, text_problem

__all__ = ["CheckedRequest", "form_text", "read_form", "refuse_impossible_parameters"]


class CheckedRequest(Request[Any, Any, Any]):
    """A request whose JSON body is read by the registry's rules."""

    async def json(self) -> Any:
        if self._json is Empty:
            if (parsed := self._connection_state.json) is not Empty:
                self._json = parsed
            else:
                body = await self.body()
                try:
                    # An empty body is "no data" (400 from the handler's checks), as before.
                    parsed = read_json(body) if body else None
                except MalformedError as e:
                    raise MalformedRequestError(f"the request body is refused: {e}") from e
                self._json = self._connection_state.json = parsed
        return self._json


async def refuse_impossible_parameters(request: Request[Any, Any, Any]) -> None:
    """Refuse path and query parameters no person could mean, before the handler runs.

    Raises:
        NotFoundError: a path parameter with a character `text_problem` refuses.
        InvalidInputError: a query parameter with a control character.
    """
    for name, value in request.path_params.items():
        if name == "number":
            # Every route with a certificate number reads it as one first
            # (`signing.identifiers.parse_certificate_number`), and answers an
            # impossible one as it answers an unknown one: the not_found
            # verdict or page for the public reads, 404 for the writes.
            continue
        if isinstance(value, str) and text_problem(value) is not None:
            raise NotFoundError(
                f"nothing at {request.url.path!r}: the {name} holds a character "
                f"no {name} has ({text_problem(value)})"
            )
    if not request.scope["query_string"]:
        return  # most requests (a scanned QR code): no query to parse
    for name, value in request.query_params.multi_items():
        # White space (a pasted list) is the handler's to trim; NUL and the like are not.
        if any(unicodedata.category(c) in ("Cc", "Cs") and c not in "\t\n\r" for c in value):
            problem = f"must not contain control characters, found in {value[:40]!r}"
            raise InvalidInputError(f"{name} {problem}", errors=[FieldError(name, problem)])


async def read_form(request: Request[Any, Any, Any], *, too_large: str) -> Mapping[str, Any]:
    """A page's form, by the registry's rules: `too_large` says what to do instead.

    Raises:
        MalformedRequestError: a form that is not UTF-8, or that cannot be parsed.
        PayloadTooLargeError: a body over the route's limit.
    """
    try:
        return await request.form()
    except UnicodeDecodeError as e:
        # Litestar decodes text fields as UTF-8 and fails on anything else.
        raise MalformedRequestError("the form is not UTF-8 text") from e
    except ClientException as e:
        # Litestar reports a body over the limit as 413, or (multipart parser limits) 400.
        if e.status_code == 413 or "Too Large" in e.detail:
            raise PayloadTooLargeError(too_large) from e
        raise MalformedRequestError(f"the form cannot be read: {e.detail}") from e


def form_text(form: Mapping[str, Any], name: str) -> str:
    """A text field of a form; "" when it is missing or is a file."""
    value = form.get(name)
    return value if isinstance(value, str) else ""

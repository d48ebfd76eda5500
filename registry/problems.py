"""One place that turns errors into answers: RFC 9457 problem details for
the API and machines, a readable HTML page for people.
"""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

import msgspec.inspect
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.response import Template

from registry.errors import PROBLEM_BASE, PROBLEM_JSON, FieldError, RegistryError
from registry.i18n import current_language_known, negotiate, using_language

log = logging.getLogger(__name__)


#: Problem slugs whose HTML answer is a translated page of its own.
_PAGES = {
    "rate-limited": "errors/rate_limited.html",
    "mark-unavailable": "errors/mark_unavailable.html",
}


def wants_html(request: Request[Any, Any, Any]) -> bool:
    if request.url.path.startswith(("/api/", "/.well-known/", "/schema", "/healthz")):
        return False
    accept = request.headers.get("accept", "")
    return "text/html" in accept


def problem(
    request: Request[Any, Any, Any],
    *,
    status: int,
    title: str,
    detail: str,
    slug: str,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    page_context: dict[str, object] | None = None,
) -> Response[Any]:
    if wants_html(request):
        context = {
            "status": status,
            "title": title,
            "detail": detail,
            "errors": errors or [],
            "retry_after": (headers or {}).get("Retry-After"),
            **(page_context or {}),
        }
        # A page of its own where the words are the page's language's (gettext).
        name = _PAGES.get(slug, "errors/error.html")
        if current_language_known():
            return Template(
                template_name=name,
                context=context,
                status_code=status,
                media_type=MediaType.HTML,
                headers=headers,
            )
        # The router's own 404 and 405 are answered outside the app's middleware, so
        # the language is negotiated here and the page rendered in it at once.
        lang = negotiate(request.query_params.get("lang"), request.headers.get("accept-language"))
        engine: Any = request.app.template_engine
        with using_language(lang, path=request.url.path, query=request.url.query or ""):
            page = engine.get_template(name).render(**context)
        return Response(
            content=page, status_code=status, media_type=MediaType.HTML, headers=headers
        )
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    if errors:
        body["errors"] = errors
    return Response(content=body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def registry_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    assert isinstance(exc, RegistryError)
    return problem(
        request,
        status=exc.status_code,
        title=exc.title,
        detail=exc.detail,
        slug=exc.slug,
        errors=[e.to_json() for e in exc.errors] or None,
        headers=exc.headers or None,
        page_context=exc.page_context or None,
    )


# msgspec's words for what a request body held (litestar decodes bodies with msgspec).
_EXPECTED = re.compile(r"^Expected `(?P<expected>[^`]+)`, got `(?P<got>[^`]+)`$")
_MISSING = re.compile(r"^Object missing required field `(?P<name>[^`]+)`$")
_UNKNOWN = re.compile(r"^Object contains unknown field `(?P<name>[^`]+)`$")
_JSON_WORDS = {
    "object": "a JSON object",
    "array": "a list (JSON array)",
    "str": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "null": "null",
}
_GOT_WORDS = {**_JSON_WORDS, "bool": "a boolean", "array": "a JSON array"}


def _either(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def _unwrap(info: Any, want: type[Any]) -> Any:
    """The `want` inside Annotated metadata and unions (`X | None`), or None."""
    if isinstance(info, msgspec.inspect.Metadata):
        return _unwrap(info.type, want)
    if isinstance(info, msgspec.inspect.UnionType):
        found = (_unwrap(t, want) for t in info.types)
        return next((f for f in found if f is not None), None)
    return info if isinstance(info, want) else None


def _body_struct_at(request: Request[Any, Any, Any], where: str) -> Any:
    """The msgspec struct a handler reads at `where` (dotted, "" for the body), or None."""
    data = request.route_handler.parsed_data_field
    if data is None:
        return None
    try:
        info = msgspec.inspect.type_info(data.annotation)
    except TypeError:  # not a type msgspec knows (e.g. a form)
        return None
    struct = _unwrap(info, msgspec.inspect.StructType)
    for name in filter(None, re.sub(r"\[\d+\]", "", where).split(".")):
        field = next((f for f in struct.fields if f.encode_name == name), None) if struct else None
        struct = None if field is None else _unwrap(field.type, msgspec.inspect.StructType)
    return struct


def _description(struct: Any, name: str) -> str | None:
    field = next((f for f in struct.fields if f.encode_name == name), None) if struct else None
    if field is None or not isinstance(field.type, msgspec.inspect.Metadata):
        return None
    description = (field.type.extra_json_schema or {}).get("description")
    return str(description) if description else None


def body_field_error(request: Request[Any, Any, Any], key: str, message: str) -> FieldError:
    """A msgspec complaint about a request body as a FieldError a person can act on.

    ``key`` is where litestar found it (``data`` for the body itself,
    ``holder``, ``items[1]``); "Expected `int`, got `str`" at ``score`` becomes
    ``FieldError("score", "must be an integer, got a string")``.
    """
    where = "" if key == "data" else key
    if m := _EXPECTED.match(message):
        expected = _either([_JSON_WORDS.get(t, f"`{t}`") for t in m["expected"].split(" | ")])
        got = _GOT_WORDS.get(m["got"], f"`{m['got']}`")
        return FieldError(where or "request", f"must be {expected}, got {got}")
    if m := _MISSING.match(message):
        description = _description(_body_struct_at(request, where), m["name"])
        return FieldError(
            f"{where}.{m['name']}" if where else m["name"],
            f"is required: {description}" if description else "is required",
        )
    if m := _UNKNOWN.match(message):
        struct = _body_struct_at(request, where)
        allowed = sorted(f.encode_name for f in struct.fields) if struct else []
        return FieldError(
            f"{where}.{m['name']}" if where else m["name"],
            f"unknown member; the members are {', '.join(allowed)}"
            if allowed
            else "unknown member",
        )
    return FieldError(where or "request", message)


def _validation_errors(
    request: Request[Any, Any, Any], exc: ValidationException
) -> tuple[list[FieldError], bool]:
    """The named problems of a request, and whether its body could not be read at all."""
    errors: list[FieldError] = []
    unreadable = False
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if not isinstance(item, dict):
            continue
        key = str(item.get("key") or "")
        message = str(item.get("message", ""))
        if item.get("source") == "body" and key:
            # An empty body reaches msgspec as a missing `data` argument.
            if key == "data" and message == "'data'":
                unreadable = True
                continue
            errors.append(body_field_error(request, key, message))
        else:
            errors.append(FieldError(key or str(item.get("source") or "request"), message))
    return errors, unreadable or not errors


def http_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    detail = exc.detail
    errors: list[FieldError] = []
    if isinstance(exc, ValidationException):
        # A body that is missing or not JSON is unreadable (400; litestar raises a
        # plain 400 for malformed JSON); a body or parameter that reads but has a
        # member of the wrong type, a missing or an unknown one breaks a rule (422).
        errors, unreadable = _validation_errors(request, exc)
        status = 400 if unreadable else 422
        detail = (
            "the request body is empty or not valid JSON"
            if unreadable
            else "; ".join(f"{e.field} {e.message}" for e in errors)
        )
    elif status == 413:
        detail = "the request body is larger than 1 MiB"
    elif status == 404:
        detail = f"nothing at {request.url.path}"
    titles = {
        400: "Unreadable request",
        404: "Not found",
        405: "Method not allowed",
        413: "Request too large",
        422: "Invalid input",
    }
    return problem(
        request,
        status=status,
        title=titles.get(status, exc.detail or "Error"),
        detail=detail,
        slug={
            400: "malformed-request",
            404: "not-found",
            413: "too-large",
            422: "invalid-input",
        }.get(status, "http-error"),
        errors=[e.to_json() for e in errors] or None,
        # RFC 9110 §15.5.6: a 405 names the methods the resource has (`Allow`), which
        # the router put on the exception.
        headers=dict(exc.headers or {}) or None,
    )


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    incident = uuid.uuid4().hex[:12]
    log.exception("internal error %s on %s %s", incident, request.method, request.url.path)
    return problem(
        request,
        status=500,
        title="Internal error",
        detail=f"something went wrong on our side (incident {incident}); nothing was changed",
        slug="internal",
    )


EXCEPTION_HANDLERS = {
    RegistryError: registry_error_handler,
    HTTPException: http_error_handler,
    Exception: internal_error_handler,
}

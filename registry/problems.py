"""One place that turns errors into answers: RFC 9457 problem details for
the API and machines, a readable HTML page for people.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.response import Template

from registry.errors import RegistryError

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://starmark.example/problems/"


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
) -> Response[Any]:
    if wants_html(request):
        return Template(
            template_name="errors/error.html",
            context={"status": status, "title": title, "detail": detail, "errors": errors or []},
            status_code=status,
            media_type=MediaType.HTML,
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
    return Response(content=body, status_code=status, media_type=PROBLEM_JSON)


def registry_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    assert isinstance(exc, RegistryError)
    return problem(
        request,
        status=exc.status_code,
        title=exc.title,
        detail=exc.detail,
        slug=exc.slug,
        errors=[e.to_json() for e in exc.errors] or None,
    )


def _validation_errors(exc: ValidationException) -> list[dict[str, str]]:
    errors = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if isinstance(item, dict):
            field = str(item.get("key") or item.get("source") or "request")
            errors.append({"field": field, "message": str(item.get("message", ""))})
    return errors


def http_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    detail = exc.detail
    errors: list[dict[str, str]] = []
    if isinstance(exc, ValidationException):
        errors = _validation_errors(exc)
        # A body that is not JSON is unreadable (400); a parameter of the wrong
        # shape is a request that reads but breaks a rule (422).
        unreadable = not errors or any(
            e["field"] in ("body", "request") or "JSON" in e["message"] for e in errors
        )
        status = 400 if unreadable else 422
        detail = "the request body is not valid JSON" if unreadable else "invalid parameters"
        if unreadable and "JSON" not in exc.detail and errors:
            detail = exc.detail
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
        errors=errors or None,
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

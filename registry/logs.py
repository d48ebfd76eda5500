"""Structured logs: one JSON object a line, each with the request id it was written for.

The request id is the client's `X-Request-Id` when it sent a usable one (a proxy
or a load balancer usually does), else a new one; it is echoed in the
response's `X-Request-Id`, so a person reporting a problem can quote it and an
operator can find every line of that request. Outside a request it is "-".

What is never logged: tokens (the `Authorization` header is not logged at all),
passphrases and private keys (settings keep them out of `repr`).
tests/registry/test_observability.py checks it over a request cycle and the CLI.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, Any, Final

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "JsonLineFormatter",
    "RequestIdFilter",
    "RequestIdMiddleware",
    "configure_logging",
    "current_request_id",
]

_request_id: ContextVar[str] = ContextVar("starmark_request_id", default="-")
#: What a client may send as its request id: short, and nothing that could forge a log line.
_USABLE_ID: Final = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,64}$")
access_log = logging.getLogger("starmark.access")


def current_request_id() -> str:
    """The id of the request being answered ("-" outside a request)."""
    return _request_id.get()


def request_id_from(header: bytes | None) -> str:
    if header is not None:
        text = header.decode("latin-1")
        if _USABLE_ID.match(text):
            return text
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Puts `request_id` on every record (a handler's filter: it sees propagated records)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


#: Database drivers whose DEBUG lines carry query parameters: a hosted key's encrypted
#: PEM, a token's hash. Never below WARNING, whatever the level asked.
_QUERY_LOGGERS: Final = ("aiosqlite", "asyncpg", "piccolo")

#: Extra attributes a record may carry (`log.info(..., extra={...})`) that become fields.
_FIELDS: Final = ("method", "route", "status", "duration_ms")


class JsonLineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "request_id": getattr(record, "request_id", _request_id.get()),
            "message": record.getMessage(),
        }
        for name in _FIELDS:
            if hasattr(record, name):
                line[name] = getattr(record, name)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure_logging(level: int = logging.INFO, stream: IO[str] | None = None) -> None:
    """Root logging for the served app: JSON lines on stderr (or `stream`)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonLineFormatter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "starmark", False)]:
        root.removeHandler(old)
    handler.starmark = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    for name in _QUERY_LOGGERS:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))


class RequestIdMiddleware:
    """Sets the request id for the request's log lines, echoes it, logs one access line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        header = next((v for k, v in scope["headers"] if k == b"x-request-id"), None)
        request_id = request_id_from(header)
        token = _request_id.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers") or () if k != b"x-request-id"]
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = scope.get("path_template") or "(unrouted)"
            access_log.info(
                "%s %s %s",
                scope["method"],
                route,
                status,
                extra={
                    "method": scope["method"],
                    # The route template, like the metrics: no certificate number or query.
                    "route": route,
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )
            _request_id.reset(token)

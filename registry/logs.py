"""Structured logs: one JSON object a line, each with the request id it was written for.

The request id is the client's `X-Request-Id` when it sent a usable one (a proxy
or a load balancer usually does), else a new one; it is echoed in the
response's `X-Request-Id`, so a person reporting a problem can quote it and an
operator can find every line of that request. Outside a request it is "-".

What is never logged: tokens (the `Authorization` header is not logged at all),
passphrases and private keys (settings keep them out of `repr`).
tests/registry/test_observability.py checks it over a request cycle and the CLI.

Every routed answer passes through `RequestIdMiddleware` once: it writes the
access line and counts the answer in the request metrics (registry/metrics.py)
from the same status and duration, so the hot path wraps `send` once.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, Any, Final

import msgspec
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from registry.metrics import REQUESTS

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
    # 32 random hex digits, as `uuid.uuid4().hex` wrote them, at a third of its cost.
    return os.urandom(16).hex()


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
_encode: Final = msgspec.json.Encoder(enc_hook=str).encode


class JsonLineFormatter(logging.Formatter):
    """One JSON object a line, encoded by msgspec: every answer writes one, so it is kept cheap
    (2 µs a line against 6 µs with `json.dumps` and `datetime.isoformat`)."""

    def __init__(self) -> None:
        super().__init__()
        self._second = -1
        self._second_text = ""

    def _time(self, created: float) -> str:
        # "2026-11-30T11:50:34.579+00:00": the text of the second is made once a second.
        second = int(created)
        if second != self._second:
            self._second_text = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
            self._second = second
        return f"{self._second_text}.{int((created - second) * 1000):03d}+00:00"

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": self._time(record.created),
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
        # A field JSON cannot hold (a `Path` given as `extra`) is written as its text.
        return _encode(line).decode()


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
    # The logging HOWTO's "Optimization": the JSON line holds no caller, thread or
    # process, so no record looks them up (the caller is a walk up the stack).
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    for name in _QUERY_LOGGERS:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))


class RequestIdMiddleware:
    """Sets the request id for the request's log lines, echoes it, logs and counts the answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        header = next((v for k, v in scope["headers"] if k == b"x-request-id"), None)
        request_id = request_id_from(header)
        token = _request_id.set(request_id)
        method = scope["method"]
        route = scope.get("path_template") or "(unrouted)"
        running = REQUESTS.started(method, route)
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
            seconds = time.perf_counter() - started
            if running is not None:
                running.dec()
            REQUESTS.answered(method, route, status, seconds)
            access_log.info(
                "%s %s %s",
                method,
                route,
                status,
                extra={
                    "method": method,
                    # The route template, like the metrics: no certificate number or query.
                    "route": route,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 2),
                },
            )
            _request_id.reset(token)

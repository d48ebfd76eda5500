"""`Idempotency-Key`: a retried POST gets the first answer, and writes nothing twice.

The reply is stored in the same transaction as the write it answers, so a
crash leaves either both or neither.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from registry.audit.tables import IdempotentReply
from registry.db import unique_conflicts, write_transaction
from registry.errors import FieldError, InvalidInputError

MAX_KEY_LENGTH = 200


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(b"\n".join([method.encode(), path.encode(), body])).hexdigest()


async def run_once(
    *,
    scope: str,
    key: str | None,
    fingerprint: str,
    write: Callable[[], Awaitable[tuple[int, Any]]],
) -> tuple[int, Any]:
    """Run `write` (returning status code and JSON body) at most once per key."""
    engine = IdempotentReply._meta.db
    if key is None:
        return await write()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidInputError(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters",
            errors=[FieldError("Idempotency-Key", f"1 to {MAX_KEY_LENGTH} characters")],
        )
    async with write_transaction(engine):
        previous = (
            await IdempotentReply.select()
            .where((IdempotentReply.scope == scope) & (IdempotentReply.key == key))
            .first()
        )
        if previous is not None:
            if previous["request_hash"] != fingerprint:
                raise InvalidInputError(
                    "this Idempotency-Key was used for a different request",
                    errors=[FieldError("Idempotency-Key", "already used for another request")],
                )
            return int(previous["status_code"]), json.loads(previous["body"])
        status, body = await write()
        with unique_conflicts("a request with this Idempotency-Key is already under way"):
            await IdempotentReply.insert(
                IdempotentReply(
                    scope=scope,
                    key=key,
                    request_hash=fingerprint,
                    status_code=status,
                    body=json.dumps(body, ensure_ascii=False),
                )
            )
    return status, body

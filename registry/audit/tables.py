"""Who did what, when; and replies kept for `Idempotency-Key` retries."""

from __future__ import annotations

from piccolo.columns import Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class AuditEntry(Table, tablename="audit_entry"):
    id = Serial(primary_key=True)
    at = Timestamptz(default=TimestamptzNow(), index=True)
    #: `token:<prefix>`, `cli` ...: never a secret.
    actor = Varchar(length=64)
    #: The body the actor acts for, or null (operator).
    actor_body = Varchar(length=32, null=True, default=None)
    #: e.g. `certificate.issue`, `key.compromise`.
    action = Varchar(length=64)
    #: What was acted on: a certificate number, a kid, a body code.
    subject = Varchar(length=200)
    request_id = Varchar(length=64, null=True, default=None)
    #: Small JSON object with details (never a secret).
    detail = Text(default="{}")


class IdempotentReply(Table, tablename="idempotent_reply"):
    """Unique (scope, key): see the unique-indexes migration."""

    id = Serial(primary_key=True)
    #: Who asked: `body:<code>` or `operator`.
    scope = Varchar(length=64)
    key = Varchar(length=200)
    #: SHA-256 of method, path and body: a key reused for another request is refused.
    request_hash = Varchar(length=64)
    status_code = Integer()
    body = Text()
    created_at = Timestamptz(default=TimestamptzNow())

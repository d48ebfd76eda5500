"""Console accounts and the database-backed session store."""

from __future__ import annotations

from piccolo.columns import Boolean, Bytea, Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class ConsoleUser(Table, tablename="console_user"):
    """A person who signs in to `/console` (`starmark user add`)."""

    id = Serial(primary_key=True)
    #: Lower-case e-mail address: the login name (form field `username`).
    email = Varchar(length=254, unique=True, index=True)
    #: The body whose staff this person is; null for an operator.
    body_code = Varchar(length=32, null=True, default=None)
    is_operator = Boolean(default=False)
    #: `issuer` (reads and writes) or `viewer` (reads only).
    role = Varchar(length=16, default="viewer")
    #: argon2id PHC string (pwdlib); empty until the person sets a password.
    password_hash = Varchar(length=255, default="")
    #: SHA-256 (hex) of the one-time set-password token; null when none is open.
    set_password_token_hash = Varchar(length=64, null=True, default=None)
    set_password_expires_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    disabled = Boolean(default=False)


class ConsoleSession(Table, tablename="console_session"):
    """A server-side session (litestar's session middleware, `store.DatabaseStore`).

    Used when STARMARK_REDIS_URL is not set, so that every app process sees the
    same sessions.
    """

    #: The session id (the cookie's value), as litestar names it in the store.
    key = Varchar(length=255, primary_key=True)
    value = Bytea()
    #: Null: never expires (litestar's sessions always set one).
    expires_at = Timestamptz(null=True, default=None, index=True)

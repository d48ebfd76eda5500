"""Console accounts: who they are, their passwords (argon2id through pwdlib).

An account belongs to one certification body (`issuer` or `viewer`) or is an
operator's. Passwords are set with the account (`--password-stdin`) or later
through a one-time link valid for 24 hours; only its SHA-256 is kept.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from registry.audit.services import audit_entry
from registry.bodies.services import get_body, parse_body_code
from registry.console.tables import ConsoleUser
from registry.db import unique_conflicts, write_transaction
from registry.errors import FieldError, InvalidInputError, NotFoundError
from registry.principals import Principal

__all__ = [
    "ROLES",
    "SET_PASSWORD_VALIDITY",
    "ConsoleAccount",
    "NewAccount",
    "add_user",
    "check_password",
    "disable_user",
    "get_account",
    "list_users",
    "set_password",
]

ROLES: Final = ("issuer", "viewer")
#: PRODUCT §4: the link printed by `starmark user add` works once, for a day.
SET_PASSWORD_VALIDITY: Final = timedelta(hours=24)
MIN_PASSWORD_CHARS: Final = 10
MAX_PASSWORD_CHARS: Final = 1024

#: argon2id with argon2-cffi's defaults (RFC 9106's second recommended option).
_HASHER: Final = PasswordHash((Argon2Hasher(),))
#: Checked against when the account does not exist, so that a wrong e-mail address
#: takes as long as a wrong password (no account enumeration by timing).
_DUMMY_HASH: Final = _HASHER.hash(secrets.token_urlsafe(16))

_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s.]{1,63}")


@dataclass(frozen=True)
class ConsoleAccount:
    """The signed-in person, as every console page sees them."""

    id: int
    email: str
    body_code: str | None
    is_operator: bool
    role: str

    @property
    def can_write(self) -> bool:
        return self.is_operator or self.role == "issuer"

    @property
    def principal(self) -> Principal:
        """Who the services see acting: `console:<email>` in the audit log."""
        return Principal(
            actor=f"console:{self.email}", body_code=self.body_code, is_operator=self.is_operator
        )

    def sees_body(self, code: str) -> bool:
        """A body's staff see their own body's certificates only; an operator all."""
        return self.is_operator or self.body_code == code


@dataclass(frozen=True)
class NewAccount:
    account: ConsoleAccount
    #: The one-time set-password token, when no password was given.
    set_password_token: str | None


def _account(row: dict[str, Any]) -> ConsoleAccount:
    return ConsoleAccount(
        id=int(row["id"]),
        email=str(row["email"]),
        body_code=row["body_code"],
        is_operator=bool(row["is_operator"]),
        role=str(row["role"]),
    )


def normalise_email(email: str) -> str:
    """Raises:
    InvalidInputError: not an e-mail address.
    """
    text = email.strip().lower()
    if not _EMAIL.fullmatch(text):
        raise InvalidInputError(
            f"{email.strip()[:80]!r} is not an e-mail address",
            errors=[FieldError("email", "an e-mail address such as clerk@example.cn")],
        )
    return text


def check_new_password(password: str, *, field: str = "password") -> None:
    """Raises:
    InvalidInputError: too short or too long.
    """
    if not MIN_PASSWORD_CHARS <= len(password) <= MAX_PASSWORD_CHARS:
        raise InvalidInputError(
            f"a password has {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters",
            errors=[FieldError(field, f"{MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters")],
        )


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def add_user(
    email: str,
    *,
    body_code: str | None,
    is_operator: bool,
    role: str,
    password: str | None,
    now: datetime,
    principal: Principal,
) -> NewAccount:
    """A new account; without `password`, a one-time set-password token.

    Raises:
        InvalidInputError: a bad e-mail address, role, password, or both or neither
            of a body and operator.
        NotFoundError: no such body.
        ConflictError: the e-mail address has an account already.
    """
    principal.require_operator()
    address = normalise_email(email)
    if role not in ROLES:
        raise InvalidInputError(
            f"role must be one of {', '.join(ROLES)}",
            errors=[FieldError("role", "issuer or viewer")],
        )
    if is_operator == (body_code is not None):
        raise InvalidInputError(
            "an account belongs to one certification body or is an operator's",
            errors=[FieldError("body", "a body's code, or operator")],
        )
    code = None
    if body_code is not None:
        code = (await get_body(parse_body_code(body_code)))["code"]
    if password is not None:
        check_new_password(password)
    token = None if password is not None else secrets.token_urlsafe(32)
    async with write_transaction(ConsoleUser._meta.db):
        with unique_conflicts(f"{address} has an account already"):
            rows = await ConsoleUser.insert(
                ConsoleUser(
                    email=address,
                    body_code=code,
                    is_operator=is_operator,
                    role="issuer" if is_operator else role,
                    password_hash="" if password is None else _HASHER.hash(password),
                    set_password_token_hash=None if token is None else _token_hash(token),
                    set_password_expires_at=None if token is None else now + SET_PASSWORD_VALIDITY,
                    created_at=now,
                )
            ).returning(ConsoleUser.id)
        await audit_entry(
            principal,
            "console.user.add",
            address,
            body=code,
            operator=is_operator,
            role=role,
        )
    account = ConsoleAccount(
        id=int(rows[0]["id"]),
        email=address,
        body_code=code,
        is_operator=is_operator,
        role="issuer" if is_operator else role,
    )
    return NewAccount(account=account, set_password_token=token)


_COLUMNS = (
    ConsoleUser.id,
    ConsoleUser.email,
    ConsoleUser.body_code,
    ConsoleUser.is_operator,
    ConsoleUser.role,
)


async def get_account(account_id: int) -> ConsoleAccount | None:
    """The account of a session; None when it is gone or disabled."""
    row = (
        await ConsoleUser.select(*_COLUMNS)
        .where((ConsoleUser.id == account_id) & (ConsoleUser.disabled == False))  # noqa: E712
        .first()
    )
    return None if row is None else _account(row)


async def check_password(username: str, password: str) -> ConsoleAccount | None:
    """The account when `password` is its password; None otherwise (unknown, disabled,
    no password set yet, or wrong), each as slow as the others."""
    address = username.strip().lower()[:254]
    row = (
        await ConsoleUser.select(*_COLUMNS, ConsoleUser.password_hash, ConsoleUser.disabled)
        .where(ConsoleUser.email == address)
        .first()
    )
    stored = row["password_hash"] if row and row["password_hash"] else _DUMMY_HASH
    valid = _HASHER.verify(password[:MAX_PASSWORD_CHARS], stored)
    if row is None or not row["password_hash"] or row["disabled"] or not valid:
        return None
    return _account(row)


async def set_password(token: str, password: str, *, now: datetime) -> ConsoleAccount:
    """Sets the password of the account a one-time link was made for; the link is spent.

    Raises:
        NotFoundError: the link is unknown, used or older than 24 hours.
        InvalidInputError: the password is too short or too long.
    """
    check_new_password(password)
    digest = _token_hash(token)
    async with write_transaction(ConsoleUser._meta.db):
        row = (
            await ConsoleUser.select(*_COLUMNS, ConsoleUser.set_password_expires_at)
            .where(ConsoleUser.set_password_token_hash == digest)
            .first()
        )
        if row is None or row["set_password_expires_at"] < now:
            raise NotFoundError(
                "this link to set a password is unknown, used or expired; ask for a new one"
            )
        await ConsoleUser.update(
            {
                ConsoleUser.password_hash: _HASHER.hash(password),
                ConsoleUser.set_password_token_hash: None,
                ConsoleUser.set_password_expires_at: None,
            }
        ).where(ConsoleUser.id == row["id"])
        account = _account(row)
        await audit_entry(account.principal, "console.user.set_password", account.email)
    return account


async def has_open_link(token: str, *, now: datetime) -> bool:
    row = (
        await ConsoleUser.select(ConsoleUser.set_password_expires_at)
        .where(ConsoleUser.set_password_token_hash == _token_hash(token))
        .first()
    )
    return row is not None and row["set_password_expires_at"] >= now


async def list_users() -> list[dict[str, Any]]:
    """Every account, for the operator's users page: email, body, operator, role,
    whether a password is set, disabled (never a hash)."""
    rows = await ConsoleUser.select(
        *_COLUMNS, ConsoleUser.password_hash, ConsoleUser.disabled, ConsoleUser.created_at
    ).order_by(ConsoleUser.email)
    return [
        {
            "id": row["id"],
            "email": row["email"],
            "body_code": row["body_code"],
            "is_operator": bool(row["is_operator"]),
            "role": row["role"],
            "password_set": bool(row["password_hash"]),
            "disabled": bool(row["disabled"]),
            "created_at": row["created_at"],
        }
        for row in rows
    ]


async def disable_user(account_id: int, *, principal: Principal) -> str:
    """Disables an account: it is signed out at once (every request reads the account).
    Returns its e-mail address.

    Raises:
        NotFoundError: no such account, or disabled already.
    """
    principal.require_operator()
    async with write_transaction(ConsoleUser._meta.db):
        row = (
            await ConsoleUser.select(ConsoleUser.email)
            .where((ConsoleUser.id == account_id) & (ConsoleUser.disabled == False))  # noqa: E712
            .first()
        )
        if row is None:
            raise NotFoundError("no such account, or it is disabled already")
        await ConsoleUser.update(
            {
                ConsoleUser.disabled: True,
                ConsoleUser.set_password_token_hash: None,
                ConsoleUser.set_password_expires_at: None,
            }
        ).where(ConsoleUser.id == account_id)
        await audit_entry(principal, "console.user.disable", str(row["email"]))
    return str(row["email"])

"""Who may see and do what in the console.

No session: 303 to the login page (`?next=` the page asked for). A `viewer`
reads; a write needs `issuer` (or an operator): 403. A body's staff see their
own body's certificates only: another body's is 404, as if it did not exist.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import quote, urlsplit

from litestar import Request, Response
from litestar.response import Redirect

from registry.console.accounts import ConsoleAccount, get_account
from registry.errors import ForbiddenError, NotFoundError

__all__ = [
    "LoginRequiredError",
    "flash",
    "managed_body",
    "provide_account",
    "redirect_to_login",
    "require_body",
    "require_operator",
    "require_writer",
    "safe_next",
    "start_session",
    "take_flash",
]

SESSION_ACCOUNT = "account_id"
SESSION_FLASH = "flash"
#: The session cookie's name and the app store that keeps sessions (registry/console/app.py).
SESSION_COOKIE = "starmark_console"
SESSION_STORE = "console_sessions"
#: Where `start_session` leaves the id a new session is stored under (the request's state).
NEW_SESSION_ID = "starmark.console.new_session_id"


class LoginRequiredError(Exception):
    """No signed-in account: the console answers with its login page."""


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a console path on this site, never elsewhere."""
    if not target:
        return "/console"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/console") or "\\" in target:
        return "/console"
    return target


def redirect_to_login(request: Request[Any, Any, Any], _: Exception) -> Response[Any]:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return Redirect(f"/console/login?next={quote(safe_next(here), safe='/')}", status_code=303)


async def provide_account(request: Request[Any, Any, Any]) -> ConsoleAccount:
    """The signed-in account (checked against the database on every request, so a
    disabled account is out at once)."""
    account_id = request.session.get(SESSION_ACCOUNT) if request.session else None
    account = await get_account(int(account_id)) if isinstance(account_id, int) else None
    if account is None:
        raise LoginRequiredError
    return account


async def start_session(request: Request[Any, Any, Any], account: ConsoleAccount) -> None:
    """Signs `account` in under a new session id: an id planted before the login
    (session fixation) is forgotten, and its stored session deleted."""
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        await request.app.stores.get(SESSION_STORE).delete(old)
    # The session middleware stores the session under this id (`RotatingSessionBackend`).
    request.scope.setdefault("state", {})[NEW_SESSION_ID] = secrets.token_hex(32)
    request.set_session({SESSION_ACCOUNT: account.id})


def require_writer(account: ConsoleAccount) -> None:
    """Raises:
    ForbiddenError: a viewer's account.
    """
    if not account.can_write:
        raise ForbiddenError("your account can read but not change certificates (role viewer)")


def require_body(account: ConsoleAccount, body_code: str | None, number: str) -> None:
    """Raises:
    NotFoundError: the certificate is another body's (or unknown).
    """
    if body_code is None or not account.sees_body(body_code):
        raise NotFoundError(f"no certificate with number {number.strip().upper()[:60]}")


def flash(request: Request[Any, Any, Any], result: str, text: str) -> None:
    """The outcome the next page shows in `#console-message` (after a redirect)."""
    request.session[SESSION_FLASH] = {"result": result, "text": text}


def take_flash(request: Request[Any, Any, Any]) -> dict[str, str] | None:
    message = request.session.pop(SESSION_FLASH, None) if request.session else None
    return message if isinstance(message, dict) else None


def require_operator(account: ConsoleAccount) -> None:
    """Raises:
    ForbiddenError: a body's account (the operator's pages: bodies, users, compromise).
    """
    if not account.is_operator:
        raise ForbiddenError("this page is for the registry's operators only")


def managed_body(account: ConsoleAccount, requested: str | None) -> str | None:
    """The body whose tokens and keys a page shows: a body's staff their own; an
    operator the one named (`?body=`), or None (then the page sends them to choose)."""
    if not account.is_operator:
        return account.body_code
    code = (requested or "").strip().upper()
    return code or None

"""`/console/login`, `/console/logout`, `/console/set-password`."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from registry.console import accounts
from registry.console.guards import flash, safe_next, start_session
from registry.console.lockout import LoginLockout
from registry.console.pages import _, error, ok, page
from registry.dependencies import utc_now
from registry.errors import InvalidInputError, NotFoundError
from registry.ratelimit import RateLimiter


def _address(request: Request[Any, Any, Any]) -> str:
    """The client address as the rate limits count it (trusted proxies believed)."""
    limiter: RateLimiter = request.app.state.rate_limiter
    return limiter.client(request.scope)


class AuthPages(Controller):
    path = "/"

    @get("/login", name="console-login")
    async def login_form(
        self,
        request: Request[Any, Any, Any],
        next: FromQuery[str | None] = None,
        done: FromQuery[str | None] = None,
    ) -> Template:
        message = None
        if done == "signed-out":
            message = ok(_("You are signed out."))
        elif done == "password-set":
            message = ok(_("Your password is set. Sign in with it."))
        return page(
            request,
            "login.html",
            account=None,
            message=message,
            next=safe_next(next),
            username="",
        )

    @post("/login", status_code=303)
    async def login(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        form = await request.form()
        username = str(form.get("username", ""))
        password = str(form.get("password", ""))
        target = safe_next(str(form.get("next", "")))
        lockout: LoginLockout = request.app.state.login_lockout
        address = _address(request)
        # Locked: refused before the password is even looked at (429, Retry-After).
        await lockout.check(account=username, address=address)
        account = await accounts.check_password(username, password)
        if account is None:
            await lockout.failed(account=username, address=address)
            return page(
                request,
                "login.html",
                account=None,
                message=error(_("Wrong e-mail address or password.")),
                status_code=401,
                next=target,
                username=username,
            )
        await start_session(request, account)
        flash(request, "ok", _("Signed in as %(email)s.") % {"email": account.email})
        return Redirect(target, status_code=303)

    @post("/logout", status_code=303)
    async def logout(self, request: Request[Any, Any, Any]) -> Redirect:
        request.clear_session()
        return Redirect("/console/login?done=signed-out", status_code=303)

    @get("/set-password")
    async def set_password_form(
        self, request: Request[Any, Any, Any], token: FromQuery[str | None] = None
    ) -> Template:
        valid = bool(token) and await accounts.has_open_link(str(token), now=utc_now())
        return page(
            request,
            "set_password.html",
            account=None,
            message=None if valid else error(_("This link is unknown, used or expired.")),
            status_code=200 if valid else 404,
            token=token or "",
            valid=valid,
            errors={},
        )

    @post("/set-password", status_code=303)
    async def set_password(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        form = await request.form()
        token = str(form.get("token", ""))
        password = str(form.get("password", ""))
        errors: dict[str, list[str]] = {}
        if password != str(form.get("password_again", "")):
            errors["password_again"] = [_("The two passwords differ.")]
        else:
            try:
                await accounts.set_password(token, password, now=utc_now())
            except InvalidInputError as e:
                errors["password"] = [
                    _("Use %(low)d to %(high)d characters.")
                    % {"low": accounts.MIN_PASSWORD_CHARS, "high": accounts.MAX_PASSWORD_CHARS}
                    for _e in e.errors
                ]
            except NotFoundError:
                return page(
                    request,
                    "set_password.html",
                    account=None,
                    message=error(_("This link is unknown, used or expired.")),
                    status_code=404,
                    token="",
                    valid=False,
                    errors={},
                )
        if errors:
            return page(
                request,
                "set_password.html",
                account=None,
                message=error(_("The password was not set.")),
                status_code=422,
                token=token,
                valid=True,
                errors=errors,
            )
        return Redirect("/console/login?done=password-set", status_code=303)

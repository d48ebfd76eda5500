"""The operator's pages: `/console/bodies` (bodies, their contact fields, their keys and
compromise) and `/console/users` (console accounts).

Operator accounts only: a body's account is refused (403). The writes call the
services the API and the command line call (`add_body`, `update_body`,
`compromise_key`, `add_user`), with the console account as the principal.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from registry.bodies import services as bodies
from registry.console.accounts import (
    ROLES,
    SET_PASSWORD_VALIDITY,
    ConsoleAccount,
    add_user,
    disable_user,
    list_users,
)
from registry.console.controllers.keys import keys_page
from registry.console.guards import flash, require_operator
from registry.console.pages import _, error, page
from registry.dependencies import parse_at, utc_now
from registry.errors import ConflictError, InvalidInputError, NotFoundError, RegistryError

BODY_FIELDS = ("code", "name", "name_en", "approval_no", "website", "phone")
CONTACT_FIELDS = ("name_en", "approval_no", "website", "phone")
USER_FIELDS = ("email", "body", "role")


def _values(form: Any, names: tuple[str, ...]) -> dict[str, str]:
    return {name: str(form.get(name, "")) for name in names}


def _problems(e: RegistryError) -> dict[str, list[str]]:
    by_field: dict[str, list[str]] = {}
    for problem in e.errors:
        by_field.setdefault(problem.field.split(".", 1)[0], []).append(problem.message)
    return by_field


def _optional(text: str) -> str | None:
    return text.strip() or None


class BodyAdminPages(Controller):
    path = "/bodies"

    async def _bodies_page(
        self,
        request: Request[Any, Any, Any],
        account: ConsoleAccount,
        *,
        message: dict[str, str] | None = None,
        status_code: int = 200,
        values: dict[str, str] | None = None,
        errors: dict[str, list[str]] | None = None,
    ) -> Template:
        return page(
            request,
            "bodies.html",
            account=account,
            message=message,
            status_code=status_code,
            bodies=await bodies.list_bodies(),
            values=values or {},
            errors=errors or {},
        )

    @get("/", name="console-bodies")
    async def list_bodies(
        self, request: Request[Any, Any, Any], account: NamedDependency[ConsoleAccount]
    ) -> Template:
        require_operator(account)
        return await self._bodies_page(request, account)

    @post("/", status_code=303)
    async def add(
        self, request: Request[Any, Any, Any], account: NamedDependency[ConsoleAccount]
    ) -> Template | Redirect:
        require_operator(account)
        values = _values(await request.form(), BODY_FIELDS)
        try:
            body = await bodies.add_body(
                values["code"],
                name=values["name"].strip(),
                name_en=_optional(values["name_en"]),
                contact=bodies.BodyContact(
                    approval_no=_optional(values["approval_no"]),
                    website=_optional(values["website"]),
                    phone=_optional(values["phone"]),
                ),
                principal=account.principal,
            )
        except (InvalidInputError, ConflictError) as e:
            return await self._bodies_page(
                request,
                account,
                message=error(_("Nothing was stored: %(detail)s") % {"detail": e.detail}),
                status_code=e.status_code,
                values=values,
                errors=_problems(e),
            )
        flash(request, "ok", _("Body %(code)s added.") % {"code": body["code"]})
        return Redirect("/console/bodies", status_code=303)

    async def _body_page(
        self,
        request: Request[Any, Any, Any],
        account: ConsoleAccount,
        code: str,
        *,
        message: dict[str, str] | None = None,
        status_code: int = 200,
        values: dict[str, str] | None = None,
        errors: dict[str, list[str]] | None = None,
    ) -> Template:
        body = await bodies.get_body(bodies.parse_body_code(code))
        shown = values or {name: body.get(name) or "" for name in CONTACT_FIELDS}
        return page(
            request,
            "body.html",
            account=account,
            message=message,
            status_code=status_code,
            body=body,
            values=shown,
            errors=errors or {},
        )

    @get("/{code:str}", name="console-body")
    async def body(
        self,
        request: Request[Any, Any, Any],
        account: NamedDependency[ConsoleAccount],
        code: FromPath[str],
    ) -> Template:
        require_operator(account)
        return await self._body_page(request, account, code)

    @post("/{code:str}", status_code=303)
    async def update(
        self,
        request: Request[Any, Any, Any],
        account: NamedDependency[ConsoleAccount],
        code: FromPath[str],
    ) -> Template | Redirect:
        require_operator(account)
        values = _values(await request.form(), CONTACT_FIELDS)
        try:
            body = await bodies.update_body(
                code,
                # An empty field clears it (the API's empty string).
                name_en=values["name_en"].strip(),
                approval_no=values["approval_no"],
                website=values["website"],
                phone=values["phone"],
                principal=account.principal,
            )
        except (InvalidInputError, ConflictError) as e:
            return await self._body_page(
                request,
                account,
                code,
                message=error(_("Nothing was changed: %(detail)s") % {"detail": e.detail}),
                status_code=e.status_code,
                values=values,
                errors=_problems(e),
            )
        flash(request, "ok", _("Body %(code)s saved.") % {"code": body["code"]})
        return Redirect(f"/console/bodies/{body['code']}", status_code=303)

    @get("/{code:str}/keys", name="console-body-keys")
    async def keys(
        self,
        request: Request[Any, Any, Any],
        account: NamedDependency[ConsoleAccount],
        code: FromPath[str],
    ) -> Template:
        require_operator(account)
        return await keys_page(request, account, bodies.parse_body_code(code))

    @post("/{code:str}/keys/{kid:str}/compromise", status_code=303)
    async def compromise(
        self,
        request: Request[Any, Any, Any],
        account: NamedDependency[ConsoleAccount],
        code: FromPath[str],
        kid: FromPath[str],
    ) -> Template | Redirect:
        require_operator(account)
        body_code = bodies.parse_body_code(code)
        if kid not in {k["kid"] for k in await bodies.list_keys(body_code)}:
            raise NotFoundError(f"no key {kid[:64]} of body {body_code}")
        form = await request.form()
        values = {"kid": kid, "compromised_at": str(form.get("compromised_at", "")).strip()}
        now = utc_now()
        try:
            if form.get("confirm") != "yes":
                raise InvalidInputError(_("tick the box: marking a key compromised is permanent"))
            at = parse_at(values["compromised_at"] or None, field="compromised_at", now=now)
            await bodies.compromise_key(
                kid, at=at, now=now, principal=account.principal, vault=request.app.state.vault
            )
        except (InvalidInputError, ConflictError) as e:
            return await keys_page(
                request,
                account,
                body_code,
                message=error(_("Nothing was changed: %(detail)s") % {"detail": e.detail}),
                status_code=e.status_code,
                compromise_values=values,
            )
        flash(request, "ok", _("Key %(kid)s marked compromised.") % {"kid": kid})
        return Redirect(f"/console/bodies/{body_code}/keys", status_code=303)


class UserAdminPages(Controller):
    path = "/users"

    async def _users_page(
        self,
        request: Request[Any, Any, Any],
        account: ConsoleAccount,
        *,
        message: dict[str, str] | None = None,
        status_code: int = 200,
        values: dict[str, str] | None = None,
        errors: dict[str, list[str]] | None = None,
        link: str | None = None,
    ) -> Template:
        return page(
            request,
            "users.html",
            account=account,
            message=message,
            status_code=status_code,
            users=await list_users(),
            bodies=await bodies.list_bodies(),
            roles=ROLES,
            values=values or {"role": "issuer"},
            errors=errors or {},
            link=link,
            link_hours=int(SET_PASSWORD_VALIDITY.total_seconds() // 3600),
        )

    @get("/", name="console-users")
    async def users(
        self, request: Request[Any, Any, Any], account: NamedDependency[ConsoleAccount]
    ) -> Template:
        require_operator(account)
        return await self._users_page(request, account)

    @post("/", status_code=201)
    async def add(
        self, request: Request[Any, Any, Any], account: NamedDependency[ConsoleAccount]
    ) -> Template:
        require_operator(account)
        values = _values(await request.form(), USER_FIELDS)
        is_operator = values["body"] == "operator"
        try:
            made = await add_user(
                values["email"],
                body_code=None if is_operator else (values["body"].strip() or None),
                is_operator=is_operator,
                role=values["role"],
                password=None,
                now=utc_now(),
                principal=account.principal,
            )
        except (InvalidInputError, ConflictError, NotFoundError) as e:
            return await self._users_page(
                request,
                account,
                message=error(_("Nothing was stored: %(detail)s") % {"detail": e.detail}),
                status_code=e.status_code,
                values=values,
                errors=_problems(e),
            )
        public_url = request.app.state.settings.public_url
        # The one-time link, as `starmark user add` prints it: in this answer only.
        link = f"{public_url}/console/set-password?token={made.set_password_token}"
        return await self._users_page(
            request,
            account,
            message={
                "result": "ok",
                "text": _("Account %(email)s added. Send them the link below.")
                % {"email": made.account.email},
            },
            status_code=201,
            link=link,
        )

    @post("/{user_id:int}/disable", status_code=303)
    async def disable(
        self,
        request: Request[Any, Any, Any],
        account: NamedDependency[ConsoleAccount],
        user_id: FromPath[int],
    ) -> Template | Redirect:
        require_operator(account)
        form = await request.form()
        if form.get("confirm") != "yes":
            return await self._users_page(
                request,
                account,
                message=error(_("Nothing was changed: tick the box to confirm.")),
                status_code=422,
            )
        if user_id == account.id:
            return await self._users_page(
                request,
                account,
                message=error(_("Nothing was changed: you cannot disable your own account.")),
                status_code=409,
            )
        email = await disable_user(user_id, principal=account.principal)
        flash(request, "ok", _("Account %(email)s disabled.") % {"email": email})
        return Redirect("/console/users", status_code=303)

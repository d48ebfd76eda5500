"""`/console/tokens` and `/console/keys`: a body's API tokens and signing keys.

The writes call the services `POST /api/v1/bodies/{code}/tokens` and
`/keys` call, with the console account as the principal (the same audit
records, actor `console:<email>`). A body's issuer manages their own body's
tokens and keys; a viewer reads; an operator names the body (`?body=CODE`).
A new token's secret is shown on the page that answers the form, once: it is
never stored, flashed or shown again.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from registry.bodies import services as bodies
from registry.bodies.services import HostedKeyVault
from registry.console.accounts import ConsoleAccount
from registry.console.guards import flash, managed_body, require_writer
from registry.console.pages import _, error, page
from registry.dependencies import parse_at, utc_now
from registry.errors import FieldError, InvalidInputError

BodyParam = Annotated[str | None, QueryParameter(name="body")]


def _vault(request: Request[Any, Any, Any]) -> HostedKeyVault:
    vault: HostedKeyVault = request.app.state.vault
    return vault


def _problems(e: InvalidInputError) -> dict[str, list[str]]:
    by_field: dict[str, list[str]] = {}
    for problem in e.errors:
        by_field.setdefault(problem.field, []).append(problem.message)
    return by_field


def _suffix(account: ConsoleAccount, code: str) -> str:
    return f"?body={code}" if account.is_operator else ""


async def _choose_body(
    request: Request[Any, Any, Any], account: ConsoleAccount, what: str
) -> Template:
    return page(
        request,
        "choose_body.html",
        account=account,
        bodies=await bodies.list_bodies(),
        what=what,
    )


class TokenPages(Controller):
    path = "/tokens"

    async def _tokens_page(
        self,
        request: Request[Any, Any, Any],
        account: ConsoleAccount,
        code: str,
        *,
        new_token: bodies.NewToken | None = None,
        message: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        body = await bodies.get_body(code)
        return page(
            request,
            "tokens.html",
            account=account,
            message=message,
            status_code=status_code,
            body=body,
            tokens=await bodies.list_tokens(body["code"]),
            new_token=new_token,
            suffix=_suffix(account, body["code"]),
        )

    @get("/", name="console-tokens")
    async def tokens(
        self,
        request: Request[Any, Any, Any],
        account: NamedDependency[ConsoleAccount],
        body_code: BodyParam = None,
    ) -> Template:
        code = managed_body(account, body_code)
        if code is None:
            return await _choose_body(request, account, "tokens")
        return await self._tokens_page(request, account, code)

    @post("/", status_code=201)
    async def create(
        self,
        request: Request[Any, Any, Any],
        account: NamedDependency[ConsoleAccount],
        body_code: BodyParam = None,
    ) -> Template:
        require_writer(account)
        code = managed_body(account, body_code)
        if code is None:
            return await _choose_body(request, account, "tokens")
        form = await request.form()
        label = str(form.get("label", "")).strip()
        if len(label) > 200:
            e = InvalidInputError(
                "a label has at most 200 characters",
                errors=[FieldError("label", "at most 200 characters")],
            )
            return await self._tokens_page(
                request,
                account,
                code,
                message=error(_("Nothing was stored: %(detail)s") % {"detail": e.detail}),
                status_code=422,
            )
        new = await bodies.create_token(code, label=label, principal=account.principal)
        # The secret goes into this answer only (no-store): never flashed, never shown again.
        return await self._tokens_page(
            request,
            account,
            code,
            new_token=new,
            message={
                "result": "ok",
                "text": _("Token %(prefix)s created. Copy it now: it is not shown again.")
                % {"prefix": new.prefix},
            },
            status_code=201,
        )

    @post("/{prefix:str}/revoke", status_code=303)
    async def revoke(
        self,
        request: Request[Any, Any, Any],
        account: NamedDependency[ConsoleAccount],
        prefix: FromPath[str],
        body_code: BodyParam = None,
    ) -> Template | Redirect:
        require_writer(account)
        code = managed_body(account, body_code)
        if code is None:
            return await _choose_body(request, account, "tokens")
        form = await request.form()
        if form.get("confirm") != "yes":
            return await self._tokens_page(
                request,
                account,
                code,
                message=error(_("Nothing was changed: tick the box to confirm the revocation.")),
                status_code=422,
            )
        # A body's staff revoke their own body's tokens only (another's is unknown to them).
        owned = {t["prefix"] for t in await bodies.list_tokens(code)}
        if prefix not in owned:
            return await self._tokens_page(
                request,
                account,
                code,
                message=error(_("No such token of this body.")),
                status_code=404,
            )
        await bodies.revoke_token(prefix, now=utc_now(), principal=account.principal)
        flash(request, "ok", _("Token %(prefix)s revoked.") % {"prefix": prefix})
        return Redirect(f"/console/tokens{_suffix(account, code)}", status_code=303)


class KeyPages(Controller):
    path = "/keys"

    @get("/", name="console-keys")
    async def keys(
        self,
        request: Request[Any, Any, Any],
        account: NamedDependency[ConsoleAccount],
        body_code: BodyParam = None,
    ) -> Template:
        code = managed_body(account, body_code)
        if code is None:
            return await _choose_body(request, account, "keys")
        return await keys_page(request, account, code)

    @post("/rotate", status_code=303)
    async def rotate(
        self,
        request: Request[Any, Any, Any],
        account: NamedDependency[ConsoleAccount],
        body_code: BodyParam = None,
    ) -> Template | Redirect:
        require_writer(account)
        code = managed_body(account, body_code)
        if code is None:
            return await _choose_body(request, account, "keys")
        form = await request.form()
        if form.get("confirm") != "yes":
            return await keys_page(
                request,
                account,
                code,
                message=error(_("Nothing was changed: tick the box to confirm the rotation.")),
                status_code=422,
            )
        kid = await bodies.rotate_hosted_key(
            code, vault=_vault(request), now=utc_now(), principal=account.principal
        )
        flash(
            request,
            "ok",
            _("New hosted key %(kid)s: the registry signs with it from now on.") % {"kid": kid},
        )
        return Redirect(f"/console/keys{_suffix(account, code)}", status_code=303)

    @post("/own", status_code=303)
    async def register_own(
        self,
        request: Request[Any, Any, Any],
        account: NamedDependency[ConsoleAccount],
        body_code: BodyParam = None,
    ) -> Template | Redirect:
        require_writer(account)
        code = managed_body(account, body_code)
        if code is None:
            return await _choose_body(request, account, "keys")
        form = await request.form()
        text = str(form.get("public_key", ""))
        not_before = str(form.get("not_before", "")).strip()
        now = utc_now()
        try:
            jwk = bodies.parse_public_key_text(text)
            kid = await bodies.register_public_key(
                code,
                jwk,
                not_before=parse_at(not_before or None, field="not_before", now=now),
                principal=account.principal,
                vault=_vault(request),
                now=now,
            )
        except InvalidInputError as e:
            # A pasted private key is not echoed back into the form.
            keep = "" if "private key" in e.detail else text
            return await keys_page(
                request,
                account,
                code,
                message=error(_("Nothing was stored: %(detail)s") % {"detail": e.detail}),
                status_code=e.status_code,
                values={"public_key": keep, "not_before": not_before},
                errors=_problems(e),
            )
        flash(request, "ok", _("Public key %(kid)s registered.") % {"kid": kid})
        return Redirect(f"/console/keys{_suffix(account, code)}", status_code=303)


async def keys_page(
    request: Request[Any, Any, Any],
    account: ConsoleAccount,
    code: str,
    *,
    message: dict[str, str] | None = None,
    status_code: int = 200,
    values: dict[str, str] | None = None,
    errors: dict[str, list[str]] | None = None,
    compromise_values: dict[str, str] | None = None,
) -> Template:
    """One body's keys (and, for an operator, the compromise form)."""
    body = await bodies.get_body(code)
    return page(
        request,
        "keys.html",
        account=account,
        message=message,
        status_code=status_code,
        body=body,
        keys=await bodies.list_keys(body["code"]),
        values=values or {},
        errors=errors or {},
        compromise_values=compromise_values or {},
        suffix=_suffix(account, body["code"]),
    )

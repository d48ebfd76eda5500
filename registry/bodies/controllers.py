"""Bodies, keys and tokens (operator), and the public key set."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from registry.bodies import services
from registry.bodies.services import HostedKeyVault
from registry.dependencies import parse_at, provide_principal, utc_now
from registry.errors import FieldError, InvalidInputError
from registry.principals import Principal
from signing.instants import format_instant

OPERATOR = {"principal": Provide(provide_principal)}


def _instant(value: datetime | None) -> str | None:
    return format_instant(value) if value is not None else None


def key_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "kid": row["kid"],
        "jwk": json.loads(row["public_jwk"]),
        "custody": row["custody"],
        "state": row["state"],
        "not_before": _instant(row["not_before"]),
        "not_after": _instant(row["not_after"]),
        "compromised_at": _instant(row["compromised_at"]),
    }


def _string(data: dict[str, Any], field: str, *, required: bool) -> str | None:
    value = data.get(field)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise InvalidInputError(
            f"{field} must be a string", errors=[FieldError(field, "a string is required")]
        )
    return value


class BodyController(Controller):
    path = "/api/v1/bodies"
    tags = ["bodies"]

    @get("/", summary="Certification bodies and their keys")
    async def list_bodies(
        self,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
        cursor: FromQuery[str | None] = None,
    ) -> dict[str, Any]:
        bodies = [b for b in await services.list_bodies() if cursor is None or b["code"] > cursor]
        page = bodies[:limit]
        items = []
        for body in page:
            keys = await services.list_keys(body["code"])
            items.append(
                {
                    "code": body["code"],
                    "name": body["name"],
                    "name_en": body["name_en"],
                    "keys": [key_json(k) for k in keys],
                }
            )
        next_cursor = page[-1]["code"] if len(bodies) > limit else None
        return {"items": items, "next_cursor": next_cursor}

    @post("/", summary="Register a certification body (operator)", dependencies=OPERATOR)
    async def add_body(
        self, data: JSONBody[dict[str, Any]], principal: NamedDependency[Principal]
    ) -> dict[str, Any]:
        body = await services.add_body(
            _string(data, "code", required=True) or "",
            name=_string(data, "name", required=True) or "",
            name_en=_string(data, "name_en", required=False),
            principal=principal,
        )
        return {"code": body["code"], "name": body["name"], "name_en": body["name_en"]}

    @post(
        "/{code:str}/keys",
        summary='Add a key: {"custody":"hosted"} or {"jwk":{...}} (operator)',
        dependencies=OPERATOR,
    )
    async def add_key(
        self,
        code: FromPath[str],
        data: JSONBody[dict[str, Any]],
        principal: NamedDependency[Principal],
        vault: NamedDependency[HostedKeyVault],
    ) -> dict[str, Any]:
        now = utc_now()
        not_after = data.get("not_after")
        not_after_at = parse_at(not_after, field="not_after", now=now) if not_after else None
        if data.get("custody") == "hosted":
            kid = await services.generate_hosted_key(
                code, vault=vault, now=now, not_after=not_after_at, principal=principal
            )
        elif isinstance(data.get("jwk"), dict):
            kid = await services.register_public_key(
                code,
                data["jwk"],
                not_before=parse_at(data.get("not_before"), field="not_before", now=now),
                not_after=not_after_at,
                principal=principal,
            )
        else:
            raise InvalidInputError(
                'send {"custody": "hosted"} or {"jwk": {...public Ed25519 JWK...}}',
                errors=[FieldError("jwk", "a public JWK, or custody: hosted")],
            )
        rows = [k for k in await services.list_keys(code.upper()) if k["kid"] == kid]
        return key_json(rows[0])

    @post(
        "/{code:str}/tokens",
        summary="Create an API token for a body (operator)",
        dependencies=OPERATOR,
    )
    async def create_token(
        self,
        code: FromPath[str],
        principal: NamedDependency[Principal],
        data: JSONBody[dict[str, Any] | None] = None,
    ) -> dict[str, Any]:
        label = (data or {}).get("label") or ""
        new = await services.create_token(code.upper(), label=str(label), principal=principal)
        return {"token": new.token, "prefix": new.prefix, "body": code.upper()}


class KeyController(Controller):
    path = "/api/v1/keys"
    tags = ["keys"]

    @post(
        "/{kid:str}/compromise",
        summary="Mark a key compromised from an instant (operator)",
        dependencies=OPERATOR,
        status_code=200,
    )
    async def compromise(
        self,
        kid: FromPath[str],
        principal: NamedDependency[Principal],
        data: JSONBody[dict[str, Any] | None] = None,
    ) -> dict[str, Any]:
        now = utc_now()
        at = parse_at((data or {}).get("compromised_at"), field="compromised_at", now=now)
        await services.compromise_key(kid, at=at, now=now, principal=principal)
        return {"kid": kid, "state": "compromised", "compromised_at": format_instant(at)}


@get("/.well-known/jwks.json", summary="All public keys", tags=["keys"])
async def jwks() -> Response[dict[str, Any]]:
    keyset = await services.load_keyset()
    return Response(
        content=keyset.to_jwks(),
        headers={"Cache-Control": "public, max-age=60"},
        media_type="application/jwk-set+json",
    )

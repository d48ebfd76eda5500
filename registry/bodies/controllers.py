"""Bodies, keys and tokens (operator), and the public key set."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Response, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from registry.bodies import services
from registry.bodies.schemas import (
    Body,
    BodyPage,
    BodyRequest,
    BodyUpdate,
    CompromisedKey,
    CompromiseRequest,
    Jwks,
    Key,
    KeyRequest,
    NewToken,
    TokenRequest,
)
from registry.bodies.services import HostedKeyVault
from registry.dependencies import parse_at, provide_principal, utc_now
from registry.errors import FieldError, InvalidInputError, problem_responses
from registry.principals import Principal
from signing.instants import format_instant
from signing.keys import KeyState

OPERATOR = {"principal": Provide(provide_principal)}


def body_json(row: dict[str, Any]) -> Body:
    return Body(
        code=row["code"],
        name=row["name"],
        name_en=row["name_en"],
        approval_no=row["approval_no"],
        website=row["website"],
        phone=row["phone"],
    )


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


#: The answers of an operator's request besides its success.
OPERATOR_PROBLEMS = problem_responses(400, 401, 403, 404, 409, 413, 422)


class BodyController(Controller):
    path = "/api/v1/bodies"
    tags = ["bodies"]

    @get("/", summary="Certification bodies and their keys", responses=problem_responses(400, 422))
    async def list_bodies(
        self,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
        cursor: FromQuery[str | None] = None,
    ) -> BodyPage:
        listed = await services.list_bodies()
        # The cursor this list issues is the code of the last body of a page.
        if cursor is not None and not any(b["code"] == cursor for b in listed):
            raise InvalidInputError(
                f"cursor {cursor[:40]!r} was not issued by this list",
                errors=[FieldError("cursor", "the next_cursor of a previous page, or nothing")],
            )
        bodies = [b for b in listed if cursor is None or b["code"] > cursor]
        page = bodies[:limit]
        items = []
        for body in page:
            keys = await services.list_keys(body["code"])
            items.append(
                {
                    "code": body["code"],
                    "name": body["name"],
                    "name_en": body["name_en"],
                    "approval_no": body["approval_no"],
                    "website": body["website"],
                    "phone": body["phone"],
                    "keys": [key_json(k) for k in keys],
                }
            )
        next_cursor = page[-1]["code"] if len(bodies) > limit else None
        return msgspec.convert({"items": items, "next_cursor": next_cursor}, BodyPage)

    @post(
        "/",
        summary="Register a certification body (operator)",
        dependencies=OPERATOR,
        responses=OPERATOR_PROBLEMS,
    )
    async def add_body(
        self, data: JSONBody[BodyRequest], principal: NamedDependency[Principal]
    ) -> Body:
        body = await services.add_body(
            data.code,
            name=data.name,
            name_en=data.name_en,
            contact=services.BodyContact(
                approval_no=data.approval_no, website=data.website, phone=data.phone
            ),
            principal=principal,
        )
        return body_json(body)

    @patch(
        "/{code:str}",
        summary="Set a body's English name, approval number, web site, telephone (operator)",
        dependencies=OPERATOR,
        responses=OPERATOR_PROBLEMS,
    )
    async def update_body(
        self, code: FromPath[str], data: JSONBody[BodyUpdate], principal: NamedDependency[Principal]
    ) -> Body:
        body = await services.update_body(
            code,
            name_en=data.name_en,
            approval_no=data.approval_no,
            website=data.website,
            phone=data.phone,
            principal=principal,
        )
        return body_json(body)

    @post(
        "/{code:str}/keys",
        summary='Add a key: {"custody":"hosted"} or {"jwk":{...}} (operator)',
        dependencies=OPERATOR,
        responses=OPERATOR_PROBLEMS,
    )
    async def add_key(
        self,
        code: FromPath[str],
        data: JSONBody[KeyRequest],
        principal: NamedDependency[Principal],
        vault: NamedDependency[HostedKeyVault],
    ) -> Key:
        # The API keeps keys and tokens an operator's (a body manages its own in the console).
        principal.require_operator()
        now = utc_now()
        not_after = data.not_after
        not_after_at = parse_at(not_after, field="not_after", now=now) if not_after else None
        if data.custody == "hosted":
            kid = await services.generate_hosted_key(
                code, vault=vault, now=now, not_after=not_after_at, principal=principal
            )
        elif data.jwk is not None:
            kid = await services.register_public_key(
                code,
                data.jwk,
                not_before=parse_at(data.not_before, field="not_before", now=now),
                not_after=not_after_at,
                principal=principal,
                vault=vault,
                now=now,
            )
        else:
            raise InvalidInputError(
                'send {"custody": "hosted"} or {"jwk": {...public Ed25519 JWK...}}',
                errors=[FieldError("jwk", "a public JWK, or custody: hosted")],
            )
        rows = [k for k in await services.list_keys(code.upper()) if k["kid"] == kid]
        return msgspec.convert(key_json(rows[0]), Key)

    @post(
        "/{code:str}/tokens",
        summary="Create an API token for a body (operator)",
        dependencies=OPERATOR,
        responses=OPERATOR_PROBLEMS,
    )
    async def create_token(
        self,
        code: FromPath[str],
        principal: NamedDependency[Principal],
        data: JSONBody[TokenRequest | None] = None,
    ) -> NewToken:
        principal.require_operator()
        label = (data.label if data else None) or ""
        new = await services.create_token(code.upper(), label=label, principal=principal)
        return NewToken(token=new.token, prefix=new.prefix, body=code.upper())


class KeyController(Controller):
    path = "/api/v1/keys"
    tags = ["keys"]

    @post(
        "/{kid:str}/compromise",
        summary="Mark a key compromised from an instant (operator)",
        dependencies=OPERATOR,
        status_code=200,
        responses=OPERATOR_PROBLEMS,
    )
    async def compromise(
        self,
        kid: FromPath[str],
        principal: NamedDependency[Principal],
        vault: NamedDependency[HostedKeyVault],
        data: JSONBody[CompromiseRequest | None] = None,
    ) -> CompromisedKey:
        now = utc_now()
        at = parse_at(data.compromised_at if data else None, field="compromised_at", now=now)
        await services.compromise_key(kid, at=at, now=now, principal=principal, vault=vault)
        return CompromisedKey(
            kid=kid, state=KeyState.COMPROMISED, compromised_at=format_instant(at)
        )


@get(
    "/.well-known/jwks.json",
    summary="All public keys",
    tags=["keys"],
    media_type="application/jwk-set+json",
)
async def jwks() -> Response[Jwks]:
    keyset = await services.load_keyset()
    return Response(
        content=msgspec.convert(keyset.to_jwks(), Jwks),
        headers={"Cache-Control": "public, max-age=60"},
        media_type="application/jwk-set+json",
    )

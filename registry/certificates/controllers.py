"""`/api/v1/certificates`: search, read, verify; issue, revise, change status."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, QueryParameter

from registry.bodies.services import HostedKeyVault
from registry.certificates import services
from registry.certificates.services import WriteContext
from registry.dependencies import parse_at, provide_principal, utc_now
from registry.errors import FieldError, InvalidInputError
from registry.idempotency import request_fingerprint, run_once
from registry.principals import Principal
from registry.settings import Settings
from signing.scheme import StarLevel

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        description="Makes a retry safe: the same key and body get the first answer.",
    ),
]
Limit = Annotated[int, QueryParameter(ge=1, le=100, description="1 to 100")]


def parse_min_level(value: str | None) -> StarLevel | None:
    if value is None or value == "":
        return None
    try:
        return StarLevel(value)
    except ValueError as e:
        allowed = ", ".join(level.value for level in StarLevel)
        raise InvalidInputError(
            f"min_level {value!r} is not a star level ({allowed})",
            errors=[FieldError("min_level", f"one of {allowed}")],
        ) from e


class CertificateController(Controller):
    path = "/api/v1/certificates"
    tags = ["certificates"]

    @get("/", summary="List certificates")
    async def list_certificates(
        self,
        body_code: Annotated[str | None, QueryParameter(name="body")] = None,
        level: FromQuery[str | None] = None,
        status: FromQuery[str | None] = None,
        limit: Limit = 20,
        cursor: FromQuery[str | None] = None,
    ) -> dict[str, Any]:
        items, next_cursor = await services.list_certificates(
            body=body_code, level=level, status=status, limit=limit, cursor=cursor, now=utc_now()
        )
        return {"items": items, "next_cursor": next_cursor}

    @get("/{number:str}", summary="One certificate, all revisions and events, each with its JWS")
    async def get_certificate(self, number: FromPath[str]) -> dict[str, Any]:
        stored = await services.require_certificate(number)
        now = utc_now()
        verdict = await services.verdict_for(number, at=now, now=now, stored=stored)
        return services.certificate_document(stored, verdict)

    @get("/{number:str}/verification", summary="The verdict as JSON")
    async def verification(
        self,
        number: FromPath[str],
        at: FromQuery[str | None] = None,
        min_level: FromQuery[str | None] = None,
    ) -> Response[dict[str, Any]]:
        now = utc_now()
        verdict = await services.verdict_for(
            number,
            at=parse_at(at, field="at", now=now),
            now=now,
            min_level=parse_min_level(min_level),
        )
        return Response(
            content=verdict.to_json(), status_code=404 if verdict.status == "not_found" else 200
        )

    async def _write(
        self,
        request: Request[Any, Any, Any],
        principal: Principal,
        idempotency_key: str | None,
        write: Any,
    ) -> Response[Any]:
        fingerprint = request_fingerprint(request.method, request.url.path, await request.body())
        scope = f"body:{principal.body_code}" if principal.body_code else "operator"

        async def run() -> tuple[int, Any]:
            stored = await write()
            now = utc_now()
            verdict = await services.verdict_for(stored.number, at=now, now=now, stored=stored)
            return 201, services.certificate_document(stored, verdict)

        status, body = await run_once(
            scope=scope, key=idempotency_key, fingerprint=fingerprint, write=run
        )
        return Response(content=body, status_code=status)

    @post(
        "/",
        summary="Issue a certificate (fields signed with the hosted key, or {jws})",
        dependencies={"principal": Provide(provide_principal)},
        status_code=201,
    )
    async def issue(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[dict[str, Any]],
        principal: NamedDependency[Principal],
        vault: NamedDependency[HostedKeyVault],
        settings: NamedDependency[Settings],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Any]:
        body_code = data.pop("body", None) if principal.is_operator else None
        ctx = WriteContext(
            principal=principal, now=utc_now(), vault=vault, clock_skew=settings.clock_skew
        )
        return await self._write(
            request,
            principal,
            idempotency_key,
            lambda: services.issue_certificate(data, body_code=body_code, ctx=ctx),
        )

    @post(
        "/{number:str}/revisions",
        summary="Add a revision (new level, scope, renewal)",
        dependencies={"principal": Provide(provide_principal)},
        status_code=201,
    )
    async def revise(
        self,
        request: Request[Any, Any, Any],
        number: FromPath[str],
        data: JSONBody[dict[str, Any]],
        principal: NamedDependency[Principal],
        vault: NamedDependency[HostedKeyVault],
        settings: NamedDependency[Settings],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Any]:
        ctx = WriteContext(
            principal=principal, now=utc_now(), vault=vault, clock_skew=settings.clock_skew
        )
        return await self._write(
            request,
            principal,
            idempotency_key,
            lambda: services.add_revision(number, data, ctx=ctx),
        )

    @post(
        "/{number:str}/events",
        summary="Suspend, reinstate, revoke, withdraw, or record a passed surveillance",
        dependencies={"principal": Provide(provide_principal)},
        status_code=201,
    )
    async def add_event(
        self,
        request: Request[Any, Any, Any],
        number: FromPath[str],
        data: JSONBody[dict[str, Any]],
        principal: NamedDependency[Principal],
        vault: NamedDependency[HostedKeyVault],
        settings: NamedDependency[Settings],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Any]:
        ctx = WriteContext(
            principal=principal, now=utc_now(), vault=vault, clock_skew=settings.clock_skew
        )
        return await self._write(
            request,
            principal,
            idempotency_key,
            lambda: services.add_status_event(number, data, ctx=ctx),
        )

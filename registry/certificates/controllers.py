"""`/api/v1/certificates`: issue, revise, change status (the writes).

Reads of the same resource (search, one certificate, its verdict) belong to
the read side (`registry.verification`, `registry.search`): a write answers
with the certificate as the read side gives it (`CertificateAnswers`,
provided by the app), so what a body is told after a write is what everyone
is told after it.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, HeaderParameter, JSONBody

from registry.bodies.services import HostedKeyVault
from registry.certificates import services
from registry.certificates.services import WriteContext
from registry.dependencies import CertificateAnswers, provide_principal, utc_now
from registry.idempotency import request_fingerprint, run_once
from registry.principals import Principal
from registry.settings import Settings

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        description="Makes a retry safe: the same key and body get the first answer.",
    ),
]


class CertificateController(Controller):
    path = "/api/v1/certificates"
    tags = ["certificates"]

    async def _write(
        self,
        request: Request[Any, Any, Any],
        principal: Principal,
        idempotency_key: str | None,
        write: Any,
        answers: CertificateAnswers,
    ) -> Response[Any]:
        fingerprint = request_fingerprint(request.method, request.url.path, await request.body())
        scope = f"body:{principal.body_code}" if principal.body_code else "operator"

        async def run() -> tuple[int, Any]:
            stored = await write()
            return 201, await answers.document(stored.number, now=utc_now())

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
        answers: NamedDependency[CertificateAnswers],
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
            answers=answers,
            write=lambda: services.issue_certificate(data, body_code=body_code, ctx=ctx),
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
        answers: NamedDependency[CertificateAnswers],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Any]:
        ctx = WriteContext(
            principal=principal, now=utc_now(), vault=vault, clock_skew=settings.clock_skew
        )
        return await self._write(
            request,
            principal,
            idempotency_key,
            answers=answers,
            write=lambda: services.add_revision(number, data, ctx=ctx),
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
        answers: NamedDependency[CertificateAnswers],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Any]:
        ctx = WriteContext(
            principal=principal, now=utc_now(), vault=vault, clock_skew=settings.clock_skew
        )
        return await self._write(
            request,
            principal,
            idempotency_key,
            answers=answers,
            write=lambda: services.add_status_event(number, data, ctx=ctx),
        )

"""`/api/v1/certificates`: issue, revise, change status (the writes).

Reads of the same resource (search, one certificate, its verdict) belong to
the read side (`registry.verification`, `registry.search`): a write answers
with the certificate as the read side gives it (`CertificateAnswers`,
provided by the app), so what a body is told after a write is what everyone
is told after it.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, HeaderParameter, JSONBody

from registry.bodies.services import HostedKeyVault
from registry.certificates import services
from registry.certificates.schemas import (
    CertificateDocument,
    CertificateRequest,
    StatusEventRequest,
    to_fields,
)
from registry.certificates.services import WriteContext
from registry.dependencies import CertificateAnswers, provide_principal, utc_now
from registry.errors import problem_responses
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

#: The answers of a write besides its 201.
WRITE_PROBLEMS = problem_responses(400, 401, 403, 404, 409, 413, 422)


class CertificateController(Controller):
    path = "/api/v1/certificates"
    tags = ["certificates"]

    async def _write(
        self,
        request: Request[Any, Any, Any],
        principal: Principal,
        idempotency_key: str | None,
        *,
        answers: CertificateAnswers,
        write: Any,
    ) -> Response[CertificateDocument]:
        fingerprint = request_fingerprint(request.method, request.url.path, await request.body())
        scope = f"body:{principal.body_code}" if principal.body_code else "operator"

        async def run() -> tuple[int, Any]:
            stored = await write()
            document = await answers.document(stored.number, now=utc_now())
            # The schema checks the answer's shape; the reply is stored as JSON.
            return 201, msgspec.to_builtins(msgspec.convert(document, CertificateDocument))

        status, body = await run_once(
            scope=scope, key=idempotency_key, fingerprint=fingerprint, write=run
        )
        return Response(content=body, status_code=status)

    @post(
        "/",
        summary="Issue a certificate (fields signed with the hosted key, or {jws})",
        dependencies={"principal": Provide(provide_principal)},
        status_code=201,
        responses=WRITE_PROBLEMS,
    )
    async def issue(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[CertificateRequest],
        principal: NamedDependency[Principal],
        vault: NamedDependency[HostedKeyVault],
        settings: NamedDependency[Settings],
        answers: NamedDependency[CertificateAnswers],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[CertificateDocument]:
        fields = to_fields(data)
        # Only an operator names the body; from a body's token `body` is refused
        # by the service like any member a certificate does not have.
        body_code = fields.pop("body", None) if principal.is_operator else None
        ctx = WriteContext(
            principal=principal, now=utc_now(), vault=vault, clock_skew=settings.clock_skew
        )
        return await self._write(
            request,
            principal,
            idempotency_key,
            answers=answers,
            write=lambda: services.issue_certificate(fields, body_code=body_code, ctx=ctx),
        )

    @post(
        "/{number:str}/revisions",
        summary="Add a revision (new level, scope, renewal)",
        dependencies={"principal": Provide(provide_principal)},
        status_code=201,
        responses=WRITE_PROBLEMS,
    )
    async def revise(
        self,
        request: Request[Any, Any, Any],
        number: FromPath[str],
        data: JSONBody[CertificateRequest],
        principal: NamedDependency[Principal],
        vault: NamedDependency[HostedKeyVault],
        settings: NamedDependency[Settings],
        answers: NamedDependency[CertificateAnswers],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[CertificateDocument]:
        ctx = WriteContext(
            principal=principal, now=utc_now(), vault=vault, clock_skew=settings.clock_skew
        )
        return await self._write(
            request,
            principal,
            idempotency_key,
            answers=answers,
            write=lambda: services.add_revision(number, to_fields(data), ctx=ctx),
        )

    @post(
        "/{number:str}/events",
        summary="Suspend, reinstate, revoke, withdraw, or record a passed surveillance",
        dependencies={"principal": Provide(provide_principal)},
        status_code=201,
        responses=WRITE_PROBLEMS,
    )
    async def add_event(
        self,
        request: Request[Any, Any, Any],
        number: FromPath[str],
        data: JSONBody[StatusEventRequest],
        principal: NamedDependency[Principal],
        vault: NamedDependency[HostedKeyVault],
        settings: NamedDependency[Settings],
        answers: NamedDependency[CertificateAnswers],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[CertificateDocument]:
        ctx = WriteContext(
            principal=principal, now=utc_now(), vault=vault, clock_skew=settings.clock_skew
        )
        return await self._write(
            request,
            principal,
            idempotency_key,
            answers=answers,
            write=lambda: services.add_status_event(number, to_fields(data), ctx=ctx),
        )

"""`/api/v1/certificates`: search, read, verify; issue, revise, change status."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, QueryParameter

from registry.bodies.services import HostedKeyVault
from registry.certificates import services
from registry.certificates.schemas import (
    CertificateDocument,
    CertificateRequest,
    StatusEventRequest,
    Verdict,
    to_fields,
)
from registry.certificates.services import StoredCertificate, WriteContext
from registry.dependencies import parse_at, provide_principal, utc_now
from registry.errors import FieldError, InvalidInputError
from registry.idempotency import request_fingerprint, run_once
from registry.principals import Principal
from registry.problems import problem_responses
from registry.search import services as search
from registry.search.schemas import SearchPage
from registry.settings import Settings
from registry.verification.services import VerificationService
from signing import verdict as signing_verdict
from signing.instants import format_instant
from signing.scheme import StarLevel

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        description="Makes a retry safe: the same key and body get the first answer.",
    ),
]


def document(stored: StoredCertificate, verdict: signing_verdict.Verdict) -> CertificateDocument:
    """`GET /api/v1/certificates/{number}` as its schema says (PRODUCT §4)."""
    return msgspec.convert(services.certificate_document(stored, verdict), CertificateDocument)


#: The answers of a write besides its 201.
WRITE_PROBLEMS = problem_responses(400, 401, 403, 404, 409, 413, 422)


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

    @get(
        "/",
        summary="Search certificates",
        description="A query over holder names (Chinese and English), scope, certificate "
        "number and USCC, with filters; ranked by relevance, then name (docs/search.md).",
        responses=problem_responses(400, 422),
    )
    async def list_certificates(
        self,
        settings: NamedDependency[Settings],
        q: Annotated[
            str | None,
            QueryParameter(
                description="at most 200 characters: every space-separated term is found as "
                "a literal substring of the names, scope, number or USCC (any case or width)"
            ),
        ] = None,
        body_code: Annotated[
            str | None, QueryParameter(name="body", description="a certification body's code")
        ] = None,
        level: Annotated[
            str | None, QueryParameter(description="five_star, four_star, three_star, compliant")
        ] = None,
        status: Annotated[
            str | None, QueryParameter(description="as of now, or on valid_on")
        ] = None,
        province: Annotated[
            str | None, QueryParameter(description="two-digit GB/T 2260 code (USCC characters 3-4)")
        ] = None,
        valid_on: Annotated[
            str | None,
            QueryParameter(description="RFC 3339 instant or YYYY-MM-DD (00:00 CST): status then"),
        ] = None,
        limit: Annotated[
            str | None, QueryParameter(description="an integer from 1 to 100 (default 20)")
        ] = None,
        cursor: Annotated[
            str | None, QueryParameter(description="next_cursor of the previous page")
        ] = None,
    ) -> SearchPage:
        query = search.parse_search(
            q=q,
            level=level,
            status=status,
            body=body_code,
            province=province,
            valid_on=valid_on,
            limit=limit,
            cursor=cursor,
            now=utc_now(),
        )
        page = await search.search(query, public_url=settings.public_url)
        return msgspec.convert(
            {
                "items": page.items,
                "next_cursor": page.next_cursor,
                "as_of": format_instant(page.as_of),
            },
            SearchPage,
        )

    @get(
        "/{number:str}",
        summary="One certificate, all revisions and events, each with its JWS",
        responses=problem_responses(400, 404),
    )
    async def get_certificate(self, number: FromPath[str]) -> CertificateDocument:
        stored = await services.require_certificate(number)
        now = utc_now()
        verdict = await services.verdict_for(number, at=now, now=now, stored=stored)
        return document(stored, verdict)

    @get(
        "/{number:str}/verification",
        summary="The verdict as JSON",
        responses={
            404: ResponseSpec(
                data_container=Verdict,
                generate_examples=False,
                description="No such certificate: the not_found verdict",
            ),
            **problem_responses(400, 422),
        },
    )
    async def verification(
        self,
        request: Request[Any, Any, Any],
        number: FromPath[str],
        at: FromQuery[str | None] = None,
        min_level: FromQuery[str | None] = None,
    ) -> Response[Verdict]:
        now = utc_now()
        instant = parse_at(at, field="at", now=now)
        level = parse_min_level(min_level)
        verdict = await services.verdict_for(number, at=instant, now=now, min_level=level)
        if verdict.signature_valid:
            # The page's view also compares the database's copies with the signed
            # documents: a row changed without a signature must read the same
            # here as on /v/{number} (signature_invalid), never valid.
            service: VerificationService = request.app.state.verification
            view = await service.view(verdict.number or number, at=instant, now=now)
            if view is not None and not view.verdict.signature_valid:
                verdict = dataclasses.replace(
                    view.verdict, meets_min_level=None if level is None else False
                )
        return Response(
            content=msgspec.convert(verdict.to_json(), Verdict),
            status_code=404 if verdict.status == "not_found" else 200,
        )

    async def _write(
        self,
        request: Request[Any, Any, Any],
        principal: Principal,
        idempotency_key: str | None,
        write: Any,
    ) -> Response[CertificateDocument]:
        fingerprint = request_fingerprint(request.method, request.url.path, await request.body())
        scope = f"body:{principal.body_code}" if principal.body_code else "operator"

        async def run() -> tuple[int, Any]:
            stored = await write()
            now = utc_now()
            verdict = await services.verdict_for(stored.number, at=now, now=now, stored=stored)
            return 201, msgspec.to_builtins(document(stored, verdict))

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
            lambda: services.issue_certificate(fields, body_code=body_code, ctx=ctx),
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
        idempotency_key: IdempotencyKey = None,
    ) -> Response[CertificateDocument]:
        ctx = WriteContext(
            principal=principal, now=utc_now(), vault=vault, clock_skew=settings.clock_skew
        )
        return await self._write(
            request,
            principal,
            idempotency_key,
            lambda: services.add_revision(number, to_fields(data), ctx=ctx),
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
        idempotency_key: IdempotencyKey = None,
    ) -> Response[CertificateDocument]:
        ctx = WriteContext(
            principal=principal, now=utc_now(), vault=vault, clock_skew=settings.clock_skew
        )
        return await self._write(
            request,
            principal,
            idempotency_key,
            lambda: services.add_status_event(number, to_fields(data), ctx=ctx),
        )

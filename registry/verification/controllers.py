"""`/v/{number}`: the verification page, its QR marks and the raw signed certificate.

The page is rendered on the server and complete without JavaScript; answers
carry an ETag (weak: the time of the check inside the page moves, the verdict
does not), a short Cache-Control and `Vary: Accept-Language` (PRODUCT §4,
"Freshness"). See docs/verification-page.md.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import date, datetime
from typing import Annotated, Any, Final

import msgspec
from jinja2 import Environment
from litestar import Controller, Litestar, MediaType, Request, Response, get
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.types import HTTPResponseBodyEvent, HTTPResponseStartEvent, Receive, Scope, Send
from markupsafe import Markup
from piccolo.engine.base import Engine

from registry.certificates.schemas import CertificateDocument
from registry.certificates.schemas import Verdict as VerdictSchema
from registry.dependencies import parse_at, parse_min_level, utc_now
from registry.errors import FieldError, InvalidInputError, NotFoundError, problem_responses
from registry.i18n import current_language, using_language
from registry.marks import DEFAULT_DPI, DEFAULT_SIZE_MM, MarkFormat, check_mark_size
from registry.metrics import count_verdicts
from registry.settings import Settings
from registry.verification.services import (
    CertificateView,
    RenderedPage,
    VerificationService,
    canonical_number,
    mark_bytes,
)
from registry.words import cst_text
from signing.instants import CST, format_instant
from signing.status import SURVEILLANCE_OVERDUE

__all__ = [
    "CertificateReadController",
    "VerificationPageController",
    "parse_mark_size",
    "verification_lifespan",
]

AT_DESCRIPTION: Final = (
    "The status at this instant instead of now: RFC 3339, or a date YYYY-MM-DD meaning "
    "00:00 China Standard Time"
)
#: `?lang=` is read by LanguageMiddleware for every page, so it is described, not declared.
PAGE_DESCRIPTION: Final = (
    "HTML for people, complete without JavaScript. `?lang=zh-CN` (the default) or `?lang=en`; "
    "without it, Accept-Language decides. An unknown number answers 404 with the not_found "
    "verdict. Hooks: #verdict[data-status][data-level], #browser-check[data-result]."
)
SizeMm = Annotated[
    str | None,
    QueryParameter(description="The mark's width in millimetres, 20 to 100; default 25"),
]
#: Stands where the time of the check goes; replaced on every answer.
_CHECKED_AT: Final = "\x00checked-at\x00"
_SHOWN_NUMBER_LENGTH: Final = 60


def verification_lifespan(
    engine: Engine[Any], *, replica: Engine[Any] | None = None
) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    """The page's reader and caches for the life of the app (`create_app`'s lifespan).

    Public reads go through `replica` when there is one (DATABASE_REPLICA_URL).
    """

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        service = VerificationService.for_engine(engine, replica=replica)
        app.state.verification = service
        try:
            yield
        finally:
            service.close()

    return lifespan


# ------------------------------------------------------------------------- rendering


def _signed_day(name: str, value: date) -> Markup:
    return Markup('<span data-signed="{}">{}</span>').format(name, value.isoformat())


def _page_context(view: CertificateView, *, at: datetime | None, en: bool) -> dict[str, Any]:
    verdict = view.verdict
    status = verdict.status.value
    cert = verdict.certificate
    state = verdict.status_at
    last_surveillance = state.last_surveillance if state else None
    if last_surveillance is not None:
        last_surveillance_day = last_surveillance.astimezone(CST).date().isoformat()
    else:
        last_surveillance_day = cert.valid_from.isoformat() if cert else ""
    body_label = f"{cert.issuer.name} ({cert.issuer.code})" if cert else verdict.issuer
    return {
        "number": view.number,
        "status": status,
        "level": verdict.level.value if verdict.level else None,
        "cert": cert,
        "score": cert.to_json()["score"] if cert else None,
        "revision_count": view.revision_count,
        "events": view.events,
        "log": view.log,
        "since": state.since if state else None,
        "last_reason": state.last_event.reason if state and state.last_event else None,
        "overdue": SURVEILLANCE_OVERDUE in verdict.warnings,
        "due": state.surveillance_due if state else None,
        "last_surveillance": last_surveillance,
        "last_surveillance_day": last_surveillance_day,
        "kid": verdict.kid if verdict.signature_valid else None,
        "body_label": body_label,
        "body": view.body,
        "reason": verdict.reason,
        "at": at,
        "at_day": (at or verdict.as_of).astimezone(CST).date().isoformat(),
        "en": en,
        "checked_at": _CHECKED_AT,
        "cst": cst_text,
        "iso": format_instant,
        "signed_day": _signed_day,
    }


def render_view(
    env: Environment, view: CertificateView, *, lang: str, at: datetime | None, max_age: int
) -> RenderedPage:
    """The page of `view` in `lang`, split where the time of the check goes."""
    query = f"at={format_instant(at)}" if at is not None else ""
    with using_language(lang, path=f"/v/{view.number}", query=query):
        html = env.get_template("verification/page.html").render(
            _page_context(view, at=at, en=lang == "en")
        )
    head, _, tail = html.encode().partition(_CHECKED_AT.encode())
    etag = 'W/"' + hashlib.sha256(head + tail).hexdigest()[:32] + '"'
    headers = tuple(
        (name.lower().encode(), value.encode("latin-1"))
        for name, value in _cache_headers(etag, max_age, lang).items()
    )
    return RenderedPage(head=head, tail=tail, etag=etag, headers=headers)


class RawResponse:
    """A ready-made ASGI answer (the page's hot path skips Litestar's Response)."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        start: HTTPResponseStartEvent = {
            "type": "http.response.start",
            "status": self.status,
            "headers": self.headers,
        }
        body: HTTPResponseBodyEvent = {
            "type": "http.response.body",
            "body": self.body,
            "more_body": False,
        }
        await send(start)
        await send(body)


def _header(scope: Mapping[str, Any], name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


_clock: list[Any] = [0, b""]


def _checked_at(now: datetime) -> bytes:
    """The time of the check as the page shows it, formatted once a second."""
    second = int(now.timestamp())
    if _clock[0] != second:
        _clock[1] = now.astimezone(CST).strftime("%Y-%m-%d %H:%M:%S").encode()
        _clock[0] = second
    text: bytes = _clock[1]
    return text


def _etag_matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 §13.1.2: weak comparison against a list of entity tags, or `*`."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    ours = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == ours for tag in if_none_match.split(","))


def _cache_headers(etag: str, max_age: int, lang: str | None = None) -> dict[str, str]:
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={max_age}"}
    if lang is not None:
        headers["Vary"] = "Accept-Language"
        headers["Content-Language"] = lang
        headers["Content-Type"] = "text/html; charset=utf-8"
    return headers


def _settings(request: Request[Any, Any, Any]) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _environment(request: Request[Any, Any, Any]) -> Environment:
    env: Environment = request.app.template_engine.engine  # type: ignore[union-attr]
    return env


def parse_mark_size(size_mm: str | None, dpi: str | None) -> tuple[float, int]:
    """`?size_mm=&dpi=` as a user typed them (defaults 25 mm, 600 dpi).

    Raises:
        InvalidInputError: not numbers, or outside what `check_mark_size` allows (422).
    """
    size = DEFAULT_SIZE_MM
    if size_mm not in (None, ""):
        # float() reads "nan" and "1e999" too: check_mark_size refuses them.
        try:
            size = float(size_mm) if len(size_mm) <= 32 else math.nan
        except ValueError:
            size = math.nan
    resolution = DEFAULT_DPI
    if dpi not in (None, ""):
        # -1 fails validation with the message that lists what is allowed.
        resolution = int(dpi) if dpi.isascii() and dpi.isdigit() and len(dpi) <= 5 else -1
    return check_mark_size(size, resolution)


# ------------------------------------------------------------------------ controller


class VerificationPageController(Controller):
    path = "/v"
    tags = ["verification page"]

    @get(
        "/{number:str}",
        media_type=MediaType.HTML,
        summary="The verification page (the QR target)",
        description=PAGE_DESCRIPTION,
        responses={
            404: ResponseSpec(
                data_container=str,
                media_type=MediaType.HTML,
                generate_examples=False,
                description="No such certificate: the not-found page",
            ),
            **problem_responses(422),
        },
    )
    async def page(
        self,
        request: Request[Any, Any, Any],
        read_path: NamedDependency[VerificationService],
        number: FromPath[str],
        at: Annotated[str | None, QueryParameter(description=AT_DESCRIPTION)] = None,
    ) -> RawResponse:
        # The hot path of the registry (every QR scan): kept to a few dict lookups
        # when the certificate is unchanged (bench/bench_verify_page.py).
        settings = _settings(request)
        language = current_language()
        now = utc_now()
        instant = None
        if at:
            instant = parse_at(at, field="at", now=now).replace(microsecond=0)
        canonical = canonical_number(number)
        view = None
        if canonical is not None:
            view = await read_path.view(canonical, at=instant, now=now)
        count_verdicts(
            ("not_found" if view is None else view.verdict.status.value,), surface="page"
        )
        if view is None:
            return self._not_found(request, number, settings)
        page = view.pages.get(language)
        if page is None:
            page = render_view(
                _environment(request),
                view,
                lang=language,
                at=instant,
                max_age=settings.verify_max_age_seconds,
            )
            view.pages[language] = page
        if _etag_matches(_header(request.scope, b"if-none-match"), page.etag):
            return RawResponse(304, list(page.headers), b"")
        body = page.body(_checked_at(now))
        return RawResponse(200, [*page.headers, (b"content-length", str(len(body)).encode())], body)

    def _not_found(
        self, request: Request[Any, Any, Any], number: str, settings: Settings
    ) -> RawResponse:
        shown = number.strip()[:_SHOWN_NUMBER_LENGTH]
        html = (
            _environment(request)
            .get_template("verification/not_found.html")
            .render(shown=shown, query=shown)
            .encode()
        )
        headers = {
            "Cache-Control": f"public, max-age={settings.verify_max_age_seconds}",
            "Vary": "Accept-Language",
            "Content-Language": current_language(),
            "Content-Type": "text/html; charset=utf-8",
            "Content-Length": str(len(html)),
        }
        encoded = [(k.lower().encode(), v.encode("latin-1")) for k, v in headers.items()]
        return RawResponse(404, encoded, html)

    @get(
        "/{number:str}/certificate.jws",
        media_type="application/jose",
        summary="A signed certificate revision as stored (compact JWS); default the latest",
        responses=problem_responses(404, 422),
    )
    async def certificate_jws(
        self,
        request: Request[Any, Any, Any],
        read_path: NamedDependency[VerificationService],
        number: FromPath[str],
        revision: Annotated[
            str | None, QueryParameter(description="1, 2, ...; default the latest")
        ] = None,
    ) -> Response[bytes]:
        canonical = canonical_number(number)
        snapshot = None if canonical is None else await read_path.reader.read(canonical)
        if snapshot is None or canonical is None:
            raise NotFoundError(f"no certificate with number {number.strip().upper()[:60]}")
        revisions = json.loads(snapshot)["revisions"]
        if revision in (None, ""):
            wanted = revisions[-1]
        else:
            if not revision.isascii() or not revision.isdigit() or len(revision) > 6:
                raise InvalidInputError(
                    f"revision={revision[:20]!r} is not a revision number",
                    errors=[FieldError("revision", "a whole number from 1")],
                )
            found = [r for r in revisions if r[0] == int(revision)]
            if not found:
                raise NotFoundError(f"certificate {canonical} has no revision {int(revision)}")
            wanted = found[0]
        return Response(
            wanted[1].encode("ascii"),
            media_type="application/jose",
            headers={
                "Content-Disposition": f'inline; filename="{canonical}-r{wanted[0]}.jws"',
                "Cache-Control": f"public, max-age={_settings(request).verify_max_age_seconds}",
            },
        )

    async def _mark(
        self,
        request: Request[Any, Any, Any],
        read_path: NamedDependency[VerificationService],
        number: str,
        fmt: MarkFormat,
        size_mm: str | None,
        dpi: str | None,
    ) -> Response[bytes]:
        settings = _settings(request)
        size, resolution = parse_mark_size(size_mm, dpi)
        canonical, data = await mark_bytes(
            read_path,
            number,
            fmt,
            public_url=settings.public_url,
            size_mm=size,
            dpi=resolution,
        )
        etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
        headers = _cache_headers(etag, settings.verify_max_age_seconds)
        suffix = f"{size:g}mm" + (f"-{resolution}dpi" if fmt == "png" else "")
        headers["Content-Disposition"] = f'inline; filename="{canonical}-{suffix}.{fmt}"'
        media_type = "image/png" if fmt == "png" else "image/svg+xml"
        if fmt == "svg":
            # An SVG opened on its own is a document: it may run nothing and load nothing.
            headers["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'self'"
        if _etag_matches(request.headers.get("if-none-match"), etag):
            return Response(b"", status_code=304, headers=headers, media_type=media_type)
        return Response(data, media_type=media_type, headers=headers)

    @get(
        "/{number:str}/mark.png",
        media_type="image/png",
        summary="The QR mark as PNG (PRODUCT §5)",
        responses=problem_responses(404, 409, 410, 422),
    )
    async def mark_png(
        self,
        request: Request[Any, Any, Any],
        read_path: NamedDependency[VerificationService],
        number: FromPath[str],
        size_mm: SizeMm = None,
        dpi: Annotated[
            str | None, QueryParameter(description="150 to 1200, a whole number; default 600")
        ] = None,
    ) -> Response[bytes]:
        return await self._mark(request, read_path, number, "png", size_mm, dpi)

    @get(
        "/{number:str}/mark.svg",
        media_type="image/svg+xml",
        summary="The QR mark as SVG (PRODUCT §5)",
        responses=problem_responses(404, 409, 410, 422),
    )
    async def mark_svg(
        self,
        request: Request[Any, Any, Any],
        read_path: NamedDependency[VerificationService],
        number: FromPath[str],
        size_mm: SizeMm = None,
    ) -> Response[bytes]:
        return await self._mark(request, read_path, number, "svg", size_mm, None)


class CertificateReadController(Controller):
    """`GET /api/v1/certificates/{number}` and its `/verification`: the read side's API.

    The writes on the same resource are `registry.certificates.controllers`.
    """

    path = "/api/v1/certificates"
    tags = ["certificates"]

    @get(
        "/{number:str}",
        summary="One certificate, all revisions and events, each with its JWS",
        responses=problem_responses(400, 404),
    )
    async def get_certificate(
        self, read_path: NamedDependency[VerificationService], number: FromPath[str]
    ) -> CertificateDocument:
        document = await read_path.public_document(number, now=utc_now())
        return msgspec.convert(document, CertificateDocument)

    @get(
        "/{number:str}/verification",
        summary="The verdict as JSON",
        responses={
            404: ResponseSpec(
                data_container=VerdictSchema,
                generate_examples=False,
                description="No such certificate: the not_found verdict",
            ),
            **problem_responses(400, 422),
        },
    )
    async def verification(
        self,
        read_path: NamedDependency[VerificationService],
        number: FromPath[str],
        at: Annotated[str | None, QueryParameter(description=AT_DESCRIPTION)] = None,
        min_level: FromQuery[str | None] = None,
    ) -> Response[VerdictSchema]:
        now = utc_now()
        instant = parse_at(at, field="at", now=now)
        level = parse_min_level(min_level)
        verdict = await read_path.verdict(number, at=instant, now=now, min_level=level)
        count_verdicts((verdict.status.value,), surface="api")
        return Response(
            content=msgspec.convert(verdict.to_json(), VerdictSchema),
            status_code=404 if verdict.status == "not_found" else 200,
        )

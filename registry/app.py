"""`create_app(settings)`: the Litestar application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Final

from litestar import Litestar, Router, get
from litestar.config.response_cache import ResponseCacheConfig
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig
from litestar.types import Message, Scope
from piccolo.engine.base import Engine

from registry import db
from registry.bodies.controllers import BodyController, KeyController, jwks
from registry.bodies.services import HostedKeyVault, ensure_registry_key
from registry.certificates.controllers import CertificateController
from registry.console.app import console_lifespan, console_router, console_stores
from registry.dependencies import provide_answers, provide_settings, provide_vault, utc_now
from registry.feedback.controllers import FeedbackApi, ReportPages
from registry.feedback.scans import count_page_scans, scans_lifespan
from registry.i18n import LanguageMiddleware, install_i18n
from registry.imports.controllers import ImportController
from registry.imports.worker import import_worker_lifespan
from registry.limits import CheckedRequest, refuse_impossible_parameters
from registry.log.controllers import AtomFeed, EventFeed, LogApi, LogText
from registry.logs import RequestIdMiddleware
from registry.metrics import MetricsController
from registry.problems import EXCEPTION_HANDLERS
from registry.ratelimit import RateLimitMiddleware, rate_limit_lifespan
from registry.schema_page import LocalRedoc
from registry.search.controllers import CertificateSearchController, SearchPages, counts_lifespan
from registry.security_headers import add_security_headers
from registry.settings import Settings
from registry.static_files import (
    favicon,
    install_static_url,
    static_cache_control,
    static_dir,
)
from registry.tender.controllers import TenderPages, VerificationController
from registry.verification.controllers import (
    CertificateReadController,
    VerificationPageController,
    verification_lifespan,
)
from registry.verification.services import provide_read_path
from registry.words import install_words

TEMPLATES = Path(__file__).parent / "templates"


@get("/healthz", summary="Liveness and database check", tags=["operations"])
async def healthz() -> dict[str, Any]:
    from registry.certificates.tables import Certificate

    await Certificate.select(Certificate.id).limit(1)
    return {"status": "ok"}


def allow_every_method(message: Message, scope: Scope) -> None:
    """`Allow` on OPTIONS names every method of the path (RFC 9110 §9.3.7).

    Litestar answers OPTIONS from the methods of one route, and a path served by
    two controllers (GET and POST of /api/v1/certificates, of /api/v1/bodies) is
    two routes: it would leave out GET. The router's 405 already names them all.
    """
    if message["type"] != "http.response.start" or scope.get("method") != "OPTIONS":
        return
    template = scope.get("path_template")
    if message["status"] != 204 or not template:
        return
    app = scope["litestar_app"]
    routes = [r for r in app.routes if template in (r.path, r.path_format)]
    methods = sorted({m for r in routes for m in r.methods})
    if not methods:
        return
    headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"allow"]
    message["headers"] = [*headers, (b"allow", ", ".join(methods).encode())]


#: What every answer's start passes through (plain functions: one hook, one await).
_ON_RESPONSE_START: Final = (
    add_security_headers,
    allow_every_method,
    count_page_scans,
    static_cache_control,
)


async def on_response_start(message: Message, scope: Scope) -> None:
    """The app's `before_send` hook: headers and counts on each response start."""
    if message["type"] == "http.response.start":
        for hook in _ON_RESPONSE_START:
            hook(message, scope)


def install_template_globals(engine: JinjaTemplateEngine) -> None:
    """Every template gets gettext (`{% trans %}`, `_()`) in the request's language, and
    the words of statuses and levels (registry/templates/_status.html), and `static_url()`
    (registry/static_files.py)."""
    install_i18n(engine)
    install_words(engine)
    install_static_url(engine)


def create_app(settings: Settings, *, engine: Engine[Any] | None = None) -> Litestar:
    """The registry app. Given an `engine`, the caller owns its life cycle.

    With `settings.database.replica_url` (DATABASE_REPLICA_URL) a second engine,
    owned by the app, serves the public reads: the page, verdicts, the API's
    reads, search and bulk checks (PRODUCT §6). Writes, the console and the
    log's appends keep the tables' engine, the primary.
    """
    owns_engine = engine is None
    bound = engine or db.engine_from_url(settings.database.url)
    replica = db.replica_engine(settings.database)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        db.use_engine(bound)
        if owns_engine:
            await db.start(bound)
        if replica is not None:
            await db.start(replica)
        try:
            # The registry's own key signs receipts (issue 6); it is in the JWKS
            # from the first start, before any receipt needs it.
            await ensure_registry_key(vault=app.state.vault, now=utc_now())
            yield
        finally:
            if replica is not None:
                await db.stop(replica)
            if owns_engine:
                await db.stop(bound)

    app = Litestar(
        route_handlers=[
            # The writes and the reads of /api/v1/certificates live in their own
            # domains; one router merges their routes (registered on the app one
            # by one, two controllers on one path clash over the OPTIONS handler).
            Router(
                path="/",
                route_handlers=[
                    CertificateController,
                    CertificateSearchController,
                    CertificateReadController,
                ],
            ),
            SearchPages,
            VerificationController,
            TenderPages,
            VerificationPageController,
            ReportPages,
            FeedbackApi,
            LogText,
            LogApi,
            EventFeed,
            AtomFeed,
            BodyController,
            KeyController,
            ImportController,
            jwks,
            healthz,
            favicon,
            MetricsController,
            create_static_files_router(path="/static", directories=[static_dir()]),
            # The console: sessions and CSRF on its own router only (registry/console/app.py).
            console_router(settings),
        ],
        stores=console_stores(settings),
        dependencies={
            "settings": Provide(provide_settings, sync_to_thread=False),
            "vault": Provide(provide_vault, sync_to_thread=False),
            "answers": Provide(provide_answers, sync_to_thread=False),
            "read_path": Provide(provide_read_path, sync_to_thread=False),
        },
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        template_config=TemplateConfig(
            directory=TEMPLATES,
            engine=JinjaTemplateEngine,
            engine_callback=install_template_globals,
        ),
        # Rate limits per client address and route group (registry/ratelimit.py) are
        # counted inside the request's language, so a 429 page is in the page's language.
        middleware=[RequestIdMiddleware, LanguageMiddleware, RateLimitMiddleware],
        # PRODUCT §4 "Limits and hostile input": JSON bodies, path and query
        # parameters by the registry's rules (registry/limits.py); the security
        # headers on every answer, the router's 404 and 405 included.
        request_class=CheckedRequest,
        before_request=refuse_impossible_parameters,
        before_send=[on_response_start],
        openapi_config=OpenAPIConfig(
            title="Starmark registry",
            version="1",
            description="Signed GB/T 27922 after-sales service certificates.",
            path="/schema",
            render_plugins=[LocalRedoc()],
        ),
        response_cache_config=ResponseCacheConfig(),
        # Logging is configured by whoever serves the app (registry/asgi.py,
        # registry/logs.py), not by Litestar: JSON lines with the request id.
        logging_config=None,
        request_max_body_size=settings.max_request_bytes,
        lifespan=[
            lifespan,
            verification_lifespan(bound, replica=replica),
            counts_lifespan(),
            rate_limit_lifespan(settings.rate_limits),
            console_lifespan(settings, bound),
            # Import jobs run in the background of every app process (registry/imports).
            import_worker_lifespan(settings.imports, clock=utc_now),
            # Scans of /v/{number} per day (registry/feedback/scans.py), flushed in batches.
            scans_lifespan(utc_now, every=settings.scan_flush_seconds),
        ],
    )
    app.state.settings = settings
    app.state.read_engine = replica or bound
    app.state.vault = HostedKeyVault(settings.keys)
    return app

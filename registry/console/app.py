"""The console's router: its pages, sessions and CSRF protection, and nothing else.

Sessions and CSRF are middleware of this router only, so the public pages and
the API stay cookieless and cacheable. The session cookie is HttpOnly,
SameSite=Strict, Secure when the public URL is https, scoped to `/console`,
and lasts 8 hours idle (each request renews it). The CSRF secret is derived
from STARMARK_KEY_PASSPHRASE, which every process of one registry shares.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Final

from litestar import Litestar, Router
from litestar.config.csrf import CSRFConfig
from litestar.connection import ASGIConnection
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.middleware import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)
from litestar.stores.base import Store
from litestar.types import Message, ScopeSession
from piccolo.engine.base import Engine

from registry.console.controllers.auth import AuthPages
from registry.console.controllers.certificates import CertificatePages
from registry.console.controllers.dashboard import DashboardPage
from registry.console.controllers.imports import ImportPages
from registry.console.controllers.keys import KeyPages, TokenPages
from registry.console.controllers.marks import MarkSheetPages
from registry.console.controllers.operator import BodyAdminPages, UserAdminPages
from registry.console.controllers.reports import ReportPages, ScanChartPage
from registry.console.controllers.uploads import UploadPages
from registry.console.guards import (
    NEW_SESSION_ID,
    SESSION_COOKIE,
    SESSION_STORE,
    LoginRequiredError,
    provide_account,
    redirect_to_login,
)
from registry.console.lockout import LoginLockout
from registry.console.pages import error_page
from registry.console.store import session_store
from registry.errors import RegistryError
from registry.ratelimit import limit_storage
from registry.settings import Settings
from registry.verification.services import VerificationService

__all__ = ["CONSOLE_PATH", "SESSION_STORE", "console_lifespan", "console_router", "console_stores"]

CONSOLE_PATH: Final = "/console"
#: PRODUCT §4: a console session ends after 8 hours without a request.
IDLE_SECONDS: Final = 8 * 60 * 60


def _secure(settings: Settings) -> bool:
    return settings.public_url.startswith("https://")


class RotatingSessionBackend(ServerSideSessionBackend):
    """Litestar's server-side sessions, with a new id when a person signs in.

    Litestar keeps the id the cookie brought; after `guards.start_session` the
    session is stored under the new id it chose instead (no session fixation).
    """

    def get_session_id(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        new_id = (connection.scope.get("state") or {}).get(NEW_SESSION_ID)
        return str(new_id) if new_id else super().get_session_id(connection)

    async def store_in_message(
        self,
        scope_session: ScopeSession,
        message: Message,
        connection: ASGIConnection[Any, Any, Any, Any],
    ) -> None:
        # A visitor who is not signed in (the login page) gets no cookie and no stored row.
        anonymous = isinstance(scope_session, dict) and not scope_session
        if anonymous and not connection.cookies.get(self.config.key):
            return
        await super().store_in_message(scope_session, message, connection)


@dataclass
class ConsoleSessionConfig(ServerSideSessionConfig):
    _backend_class = RotatingSessionBackend


def session_config(settings: Settings) -> ServerSideSessionConfig:
    return ConsoleSessionConfig(
        key=SESSION_COOKIE,
        store=SESSION_STORE,
        max_age=IDLE_SECONDS,
        renew_on_access=True,
        path=CONSOLE_PATH,
        httponly=True,
        samesite="strict",
        secure=_secure(settings),
    )


def csrf_config(settings: Settings) -> CSRFConfig:
    secret = hashlib.sha256(b"starmark console csrf\x00" + settings.keys.passphrase).hexdigest()
    return CSRFConfig(
        secret=secret,
        cookie_name="starmark_console_csrf",
        cookie_path=CONSOLE_PATH,
        cookie_httponly=True,
        cookie_samesite="strict",
        cookie_secure=_secure(settings),
    )


def console_stores(settings: Settings) -> dict[str, Store]:
    """The app's `stores`: the sessions' store (Redis or the database)."""
    limits = settings.rate_limits
    return {SESSION_STORE: session_store(limits.redis_url, prefix=limits.redis_prefix)}


def console_router(settings: Settings) -> Router:
    return Router(
        path=CONSOLE_PATH,
        route_handlers=[
            AuthPages,
            DashboardPage,
            CertificatePages,
            ImportPages,
            UploadPages,
            MarkSheetPages,
            ReportPages,
            ScanChartPage,
            TokenPages,
            KeyPages,
            BodyAdminPages,
            UserAdminPages,
        ],
        middleware=[
            session_config(settings).middleware,
            DefineMiddleware(CSRFMiddleware, config=csrf_config(settings)),
        ],
        dependencies={"account": Provide(provide_account)},
        exception_handlers={
            LoginRequiredError: redirect_to_login,
            RegistryError: error_page,
            HTTPException: error_page,
        },
        include_in_schema=False,
    )


def console_lifespan(settings: Settings, engine: Engine[Any]) -> Any:
    """The login lockout, over the rate limits' storage, built in the app's event loop,
    and the console's read path: through `engine`, the primary, never the replica (a
    clerk sees their own write on the next page)."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        app.state.login_lockout = LoginLockout(limit_storage(settings.rate_limits))
        app.state.console_engine = engine
        read_path = VerificationService.for_engine(engine)
        app.state.console_read_path = read_path
        try:
            yield
        finally:
            read_path.close()

    return lifespan

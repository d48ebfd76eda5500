"""Rendering console pages: the frame every page shares and the outcome hook.

Every action's outcome is written to `id="console-message"` with
`data-result="ok|error"` (PRODUCT §4): given directly (`message=`), or kept in
the session across a redirect (`guards.flash`) and shown by the next page.
"""

from __future__ import annotations

import functools
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, PermissionDeniedException
from litestar.response import Template

from registry.console.accounts import ConsoleAccount
from registry.console.guards import take_flash
from registry.errors import RegistryError
from registry.i18n import Catalogs, current_language, negotiate, using_language
from registry.words import cst_text
from signing.scheme import GB_T_27922_2011

__all__ = ["_", "error", "error_page", "ok", "page"]


@functools.cache
def _catalogs() -> Catalogs:
    return Catalogs()


def _(message: str) -> str:
    """gettext in the page's language (domain `console`; `make i18n`)."""
    return _catalogs().gettext(message)


def level_thresholds(lang: str) -> list[tuple[float, str]]:
    """(minimum score, level word) highest first, for the live check of the score
    (static/js/console.js): the scheme's own thresholds, never copied into the script."""
    return [
        (float(minimum), level.en if lang == "en" else level.zh)
        for minimum, level in GB_T_27922_2011.thresholds
    ]


def ok(text: str) -> dict[str, str]:
    return {"result": "ok", "text": text}


def error(text: str) -> dict[str, str]:
    return {"result": "error", "text": text}


def page(
    request: Request[Any, Any, Any],
    template: str,
    *,
    account: ConsoleAccount | None,
    message: dict[str, str] | None = None,
    status_code: int = 200,
    **context: Any,
) -> Template:
    """A console page; `message` (or the one flashed before a redirect) in the hook."""
    shown = message or take_flash(request)
    return Template(
        template_name=f"console/{template}",
        context={
            "account": account,
            "message": shown,
            "live_thresholds": level_thresholds(current_language()),
            "cst": cst_text,
            **context,
        },
        status_code=status_code,
        media_type=MediaType.HTML,
        # Pages about one person's work: never kept by a shared cache.
        headers={"Cache-Control": "no-store"},
    )


def error_page(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """A refused console request as a console page, the reason in `#console-message`.

    The console router's handler for registry errors and HTTP errors: a viewer's
    write (403), another body's certificate (404), a form without its CSRF
    token (403), the login lockout (429, Retry-After). An error raised by a
    middleware (CSRF) is handled outside the request's language, so the page
    negotiates it again and is rendered here, in it.
    """
    if isinstance(exc, RegistryError):
        status, detail, headers = exc.status_code, exc.detail, exc.headers
    elif isinstance(exc, HTTPException):
        status, detail, headers = exc.status_code, exc.detail, dict(exc.headers or {})
    else:
        raise exc
    lang = negotiate(request.query_params.get("lang"), request.headers.get("accept-language"))
    with using_language(lang, path=request.url.path, query=request.url.query or ""):
        if isinstance(exc, PermissionDeniedException):
            # Litestar's CSRF middleware: the only 403 it raises here.
            detail = _(
                "This form is out of date or did not come from this site, so nothing was "
                "changed. Reload the page and try again."
            )
        elif status == 429:
            minutes = max(1, -(-int(headers.get("Retry-After", "900")) // 60))
            detail = _("Too many wrong passwords. Try again in %(minutes)s minutes.") % {
                "minutes": minutes
            }
        engine = request.app.template_engine
        assert engine is not None  # create_app configures Jinja
        template = engine.get_template("console/error.html")
        html = template.render(
            account=None,
            message=error(detail),
            status=status,
            live_thresholds=[],
            cst=cst_text,
            csrf_input="",
        )
    return Response(
        html,
        status_code=status,
        media_type=MediaType.HTML,
        headers={**headers, "Cache-Control": "no-store"},
    )

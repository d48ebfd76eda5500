"""Security headers on every answer, with a strict Content-Security-Policy.

Pages run no inline script and load nothing from another origin (issue 4,
docs/verification-page.md): the in-browser check is `/static/js/check.js`,
styles are `/static/css/*.css`. The policy says so, so that markup injected into
a page (a holder name, a search query) could not run even if escaping failed.
`frame-ancestors 'none'` (CSP Level 2) with `X-Frame-Options: DENY` for older
browsers stops another site from framing a green verdict over its own content.

The headers are added by a `before_send` hook, not a middleware: Litestar runs
middleware only around route handlers, so the router's own 404 and 405 answers
would go out bare (issue 11). Every response gets them: JSON, static files,
errors. The OpenAPI viewer under /schema (Redoc, served from static/vendor/)
gets a policy of its own: Redoc styles its page with inline `<style>` and
runs its search in a `blob:` worker; it still loads nothing from elsewhere.
"""

from __future__ import annotations

from typing import Final

from litestar.enums import ScopeType
from litestar.types import Message, Scope

__all__ = ["CONTENT_SECURITY_POLICY", "SCHEMA_CONTENT_SECURITY_POLICY", "add_security_headers"]

CONTENT_SECURITY_POLICY: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
SCHEMA_CONTENT_SECURITY_POLICY: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "worker-src 'self' blob:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)

#: On every response: no MIME sniffing (a JWS or an SVG is never run as a script),
#: the certificate number in a page URL is not sent to other sites, no framing.
_ALWAYS: Final = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
)
_SCHEMA_PATH: Final = "/schema"


def add_security_headers(message: Message, scope: Scope) -> None:
    """Adds the headers above to a response start, unless the handler set them itself."""
    if scope["type"] != ScopeType.HTTP or message["type"] != "http.response.start":
        return
    path = scope["path"]
    on_schema = path == _SCHEMA_PATH or path.startswith(_SCHEMA_PATH + "/")
    policy = SCHEMA_CONTENT_SECURITY_POLICY if on_schema else CONTENT_SECURITY_POLICY
    headers = list(message.get("headers") or ())
    # ASGI header names are lower case (Litestar and our pages send them so).
    present = {name for name, _ in headers}
    extra = (*_ALWAYS, (b"content-security-policy", policy.encode()))
    headers += [(name, value) for name, value in extra if name not in present]
    message["headers"] = headers

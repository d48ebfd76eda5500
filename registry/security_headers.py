"""Security headers on every answer, and a strict Content-Security-Policy on pages.

Pages run no inline script and load nothing from another origin (issue 4,
docs/verification-page.md): the in-browser check is `/static/js/check.js`,
styles are `/static/css/*.css`. The policy says so, so that markup injected into
a page (a holder name, a search query) could not run even if escaping failed.
`frame-ancestors 'none'` (CSP Level 2) with `X-Frame-Options: DENY` for older
browsers stops another site from framing a green verdict over its own content.

The OpenAPI viewer under /schema loads its scripts from a CDN; it keeps its own
rules (no CSP here), everything else is covered.
"""

from __future__ import annotations

from typing import Final

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CONTENT_SECURITY_POLICY", "SecurityHeadersMiddleware"]

CONTENT_SECURITY_POLICY: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)

#: On every response: no MIME sniffing (a JWS or an SVG is never run as a script),
#: and the certificate number in a page URL is not sent to other sites.
_ALWAYS: Final = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
)
_PAGES: Final = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
)
_NO_CSP_PATHS: Final = ("/schema",)


class SecurityHeadersMiddleware:
    """Adds the headers above unless the handler set them itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        pages_allowed = not scope["path"].startswith(_NO_CSP_PATHS)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or ())
                # ASGI header names are lower case (Litestar and our pages send them so).
                present = set()
                is_html = False
                for name, value in headers:
                    present.add(name)
                    if name == b"content-type" and value.startswith(b"text/html"):
                        is_html = True
                extra = _ALWAYS + _PAGES if is_html and pages_allowed else _ALWAYS
                headers += [(name, value) for name, value in extra if name not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)

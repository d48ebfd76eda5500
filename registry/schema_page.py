"""`/schema`: the API's reference, readable with no network but the registry's.

Litestar's Redoc page loads Redoc from a CDN and its fonts from Google, and
starts it with an inline script: offline it is blank, and the registry's
Content-Security-Policy would block it anyway. This page loads the vendored
bundle (static/vendor/redoc/, the `redoc` npm package's
`bundles/redoc.standalone.js`, MIT) and lets Redoc start itself from a
`<redoc spec-url>` element: no inline script, nothing from elsewhere.
"""

from __future__ import annotations

from html import escape
from typing import Any

from litestar import Request
from litestar.openapi.plugins import RedocRenderPlugin

__all__ = ["REDOC_JS", "LocalRedoc"]

REDOC_JS = "/static/vendor/redoc/redoc.standalone.js"


class LocalRedoc(RedocRenderPlugin):
    """Redoc from the registry's own static files, with the system fonts."""

    def __init__(self) -> None:
        super().__init__(js_url=REDOC_JS, google_fonts=False, favicon="")

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        title = escape(str(openapi_schema["info"]["title"]))
        spec_url = escape(self.get_openapi_json_route(request))
        return (
            "<!DOCTYPE html><html lang='en'><head>"
            f"<title>{title}</title><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<link rel='stylesheet' href='/static/css/schema.css'>"
            f"<script src='{escape(self.js_url)}' defer></script>"
            f"</head><body><redoc spec-url='{spec_url}'></redoc></body></html>"
        ).encode()

"""Static files: fingerprinted URLs, how long caches keep them, and the favicon.

A page names a static file by `static_url("css/site.css")`, which gives
`/static/css/site.css?v=<first 12 hex digits of its SHA-256>`. The file's bytes
decide the URL, so a URL whose `v` is the file's current fingerprint can be
kept by browsers and proxies for a year (`immutable`, RFC 8246): a changed file
gets a new URL. Without the fingerprint, or with an old one, the answer is kept
for a short while only, so that nobody keeps stale CSS under a URL that pages
still use.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qs

from litestar import get
from litestar.enums import ScopeType
from litestar.response import File
from litestar.types import Message, Scope

__all__ = [
    "IMMUTABLE",
    "SHORT",
    "favicon",
    "fingerprint",
    "install_static_url",
    "static_cache_control",
    "static_dir",
    "static_url",
]

#: A fingerprinted URL never changes its bytes: one year, and no revalidation.
IMMUTABLE: Final = "public, max-age=31536000, immutable"
#: Unfingerprinted (or outdated) static URLs, and the favicon: an hour.
SHORT: Final = "public, max-age=3600"
_PREFIX: Final = "/static/"


def static_dir() -> Path:
    """Where the `static/` folder is installed (the package `registry.static`)."""
    import registry.static

    return Path(registry.static.__file__).parent


@functools.cache
def fingerprint(relative: str) -> str | None:
    """The first 12 hex digits of the SHA-256 of a static file, or None when there is
    no such file (static files do not change while the process runs)."""
    root = static_dir().resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def static_url(relative: str) -> str:
    """`/static/<relative>?v=<fingerprint>`, for templates (a Jinja global).

    Raises:
        FileNotFoundError: no such static file (a typo in a template shows at once).
    """
    digest = fingerprint(relative)
    if digest is None:
        raise FileNotFoundError(f"static/{relative}")
    return f"{_PREFIX}{relative}?v={digest}"


def install_static_url(engine: Any) -> None:
    """Makes `static_url()` a global of the app's Jinja environment."""
    engine.engine.globals["static_url"] = static_url


def static_cache_control(message: Message, scope: Scope) -> None:
    """`Cache-Control` of static answers (a `before_send` hook): a year for a URL with
    the file's current fingerprint, an hour otherwise."""
    if scope["type"] != ScopeType.HTTP or message["type"] != "http.response.start":
        return
    path = scope["path"]
    if message["status"] != 200 or not (path.startswith(_PREFIX) or path == "/favicon.ico"):
        return
    policy = SHORT
    if path.startswith(_PREFIX):
        given = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("v", [])
        if given and given[-1] == fingerprint(path.removeprefix(_PREFIX)):
            policy = IMMUTABLE
    headers = [(k, v) for k, v in message.get("headers") or () if k.lower() != b"cache-control"]
    message["headers"] = [*headers, (b"cache-control", policy.encode())]


@get("/favicon.ico", include_in_schema=False, name="favicon")
async def favicon() -> File:
    """The site's icon where browsers look for it (static/icons/favicon.ico)."""
    return File(
        path=static_dir() / "icons" / "favicon.ico",
        media_type="image/x-icon",
        content_disposition_type="inline",
    )

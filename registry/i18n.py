"""The languages of the pages people read: negotiation and gettext catalogs (Babel).

PRODUCT §2: Chinese first (zh-CN, the default), English by a switch (`?lang=en`)
and by `Accept-Language`. Every page (the verification page, search, /verify)
shares this: `LanguageMiddleware` picks the language of each request once and
keeps it in a context variable, and the Jinja environment (one per app, built by
`create_app`) has the i18n extension installed with gettext callables that read
that variable, so `{% trans %}` and `_()` work in every template.

Catalogs: `registry/locale/<locale>/LC_MESSAGES/<domain>.po`, one gettext domain
per part of the site (`verification`, `search`, `tender`); locale directories are
Babel identifiers (`zh_CN`, `en`; `zh-CN` and `zh` are found too). Message ids are
English, so an `en` catalog is optional: a message without a translation shows its
id. The `.po` files are the only thing committed; they are compiled in memory when
the app starts (no `.mo` files that could fall out of step with their `.po`), and
every domain's catalog of a language is merged into one `Translations`.
`make i18n` extracts, updates and reports (docs/verification-page.md).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Final, NamedTuple
from urllib.parse import parse_qsl, urlencode

from babel import negotiate_locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "LOCALE_DIR",
    "Catalogs",
    "LanguageMiddleware",
    "current_language",
    "install_i18n",
    "negotiate",
    "using_language",
]

#: BCP 47 tags, as written in `<html lang>` and accepted in `?lang=`.
LANGUAGES: Final = ("zh-CN", "en")
DEFAULT_LANGUAGE: Final = "zh-CN"
LOCALE_DIR: Final = Path(__file__).resolve().parent / "locale"

#: The tags `negotiate` matches (lower case), and the page language of each: any
#: Chinese (zh-TW, zh-Hant-HK...) gets Simplified Chinese, closer to its readers than English.
_OFFERED: Final = {"zh-cn": "zh-CN", "zh": "zh-CN", "en": "en"}
#: Where each language's catalogs may be: the Babel identifier first.
_LOCALE_DIRS: Final = {"zh-CN": ("zh_CN", "zh-CN", "zh"), "en": ("en",)}
#: Paths whose answers are never pages for people: no negotiation needed.
_MACHINE_PATHS: Final = ("/api/", "/.well-known/", "/schema", "/static/", "/healthz")
#: A longer Accept-Language is read only this far (browsers send under 100 bytes).
_MAX_ACCEPT_LANGUAGE: Final = 512


class PageRequest(NamedTuple):
    """The language of the request being answered, and how to ask for the other one."""

    lang: str
    path: str = "/"
    #: The raw query string (decoded only when a switch link is drawn).
    query: bytes = b""

    def switch_url(self, lang: str) -> str:
        """This page's URL in `lang`: the same path and query with `lang=` replaced."""
        params = [
            (k, v)
            for k, v in parse_qsl(self.query.decode("latin-1"), keep_blank_values=True)
            if k != "lang"
        ]
        params.append(("lang", lang))
        return f"{self.path}?{urlencode(params)}"


_DEFAULT_PAGE: Final = PageRequest(DEFAULT_LANGUAGE)
_current: ContextVar[PageRequest] = ContextVar("starmark_page_request", default=_DEFAULT_PAGE)


def current_language() -> str:
    """The language of the page being answered (zh-CN outside a request)."""
    return _current.get().lang


def current_request() -> PageRequest:
    return _current.get()


@contextmanager
def using_language(lang: str, *, path: str = "/", query: str = "") -> Iterator[PageRequest]:
    """Render in `lang` within the block (the verification page renders its cache this way)."""
    page = PageRequest(lang if lang in LANGUAGES else DEFAULT_LANGUAGE, path, query.encode())
    token = _current.set(page)
    try:
        yield page
    finally:
        _current.reset(token)


def _accepted_tags(accept_language: str) -> list[str]:
    """`Accept-Language`'s tags, best first: by quality, the first listed first among
    equals (RFC 9110 §12.5.4); a tag with q=0 (or a q we cannot read) is not acceptable."""
    ranked: list[tuple[float, int, str]] = []
    for index, item in enumerate(accept_language[:_MAX_ACCEPT_LANGUAGE].split(",")):
        tag, _, params = item.partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        tag = tag.strip().replace("_", "-")
        if quality > 0 and tag:
            ranked.append((-quality, index, tag))
    return [tag for _, _, tag in sorted(ranked)]


def _offered(tags: list[str]) -> str | None:
    """The first of `tags` we have a language for (Babel's `negotiate_locale`: an exact
    match, else the primary subtag: zh-TW finds zh, EN-gb finds en)."""
    chosen = negotiate_locale(tags, list(_OFFERED), sep="-", aliases={})
    return None if chosen is None else _OFFERED[chosen.lower()]


def negotiate(lang_param: str | None, accept_language: str | None) -> str:
    """The page language: `?lang=` when it names one we have, else `Accept-Language`
    (by quality), else zh-CN (PRODUCT §2: Chinese first)."""
    if lang_param:
        chosen = _offered([lang_param.strip().replace("_", "-")])
        if chosen is not None:
            return chosen
    if accept_language:
        chosen = _offered(_accepted_tags(accept_language))
        if chosen is not None:
            return chosen
    return DEFAULT_LANGUAGE


# ------------------------------------------------------------------------- catalogs


class Catalogs:
    """Every domain's `.po` for each language, compiled in memory and merged."""

    def __init__(self, locale_dir: Path = LOCALE_DIR) -> None:
        self.locale_dir = locale_dir
        self.translations: dict[str, Translations] = {lang: self._load(lang) for lang in LANGUAGES}

    def _po_files(self, lang: str) -> list[Path]:
        files: list[Path] = []
        for name in _LOCALE_DIRS[lang]:
            directory = self.locale_dir / name / "LC_MESSAGES"
            if directory.is_dir():
                files += sorted(directory.glob("*.po"))
        return files

    def _load(self, lang: str) -> Translations:
        merged: Translations | None = None
        seen: dict[str, tuple[str, str]] = {}
        for path in self._po_files(lang):
            with path.open("rb") as f:
                catalog = read_po(f, locale=_LOCALE_DIRS[lang][0], domain=path.stem)
            buffer = io.BytesIO()
            # Fuzzy entries are guesses by `pybabel update`: never shown (gettext's rule).
            write_mo(buffer, catalog, use_fuzzy=False)
            buffer.seek(0)
            for message in catalog:
                if not message.id or not message.string or message.fuzzy:
                    continue
                key = str(message.id)
                earlier = seen.get(key)
                if earlier is not None and earlier[1] != message.string:
                    # Two domains translate one id differently: the later file wins.
                    log.warning(
                        "message %r is translated differently in %s and %s (%s)",
                        key,
                        earlier[0],
                        path.stem,
                        lang,
                    )
                seen[key] = (path.stem, str(message.string))
            loaded = Translations(fp=buffer, domain=path.stem)
            if merged is None:
                # The first catalog is the base: it brings the language's plural rule
                # (Chinese has one form), which an empty Translations would not have.
                merged = loaded
            else:
                merged.merge(loaded)
        return merged if merged is not None else Translations()

    def gettext(self, message: str) -> str:
        return str(self.translations[current_language()].gettext(message))

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return str(self.translations[current_language()].ngettext(singular, plural, n))

    def pgettext(self, context: str, message: str) -> str:
        return str(self.translations[current_language()].pgettext(context, message))

    def npgettext(self, context: str, singular: str, plural: str, n: int) -> str:
        return str(self.translations[current_language()].npgettext(context, singular, plural, n))


def install_i18n(engine: Any, catalogs: Catalogs | None = None) -> None:
    """`TemplateConfig(engine_callback=...)`: gettext and the page language for every template.

    `engine` is Litestar's JinjaTemplateEngine; its Jinja `Environment` gets the
    i18n extension (newstyle gettext: `_("%(n)s certificates", n=3)` escapes `n`,
    and a literal percent sign is written `%%`) and the globals `page_lang()` and
    `lang_switch_url(lang)`.
    """
    catalogs = catalogs or Catalogs()
    env = engine.engine
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(
        gettext=catalogs.gettext,
        ngettext=catalogs.ngettext,
        pgettext=catalogs.pgettext,
        npgettext=catalogs.npgettext,
        newstyle=True,
    )
    env.globals["page_lang"] = current_language
    env.globals["lang_switch_url"] = lambda lang: current_request().switch_url(lang)
    env.globals["LANGUAGES"] = LANGUAGES


# ----------------------------------------------------------------------- middleware


def _lang_param(query_string: bytes) -> str | None:
    if b"lang=" not in query_string:
        return None
    for key, value in parse_qsl(query_string.decode("latin-1")):
        if key == "lang":
            return value
    return None


def request_language(query_string: bytes, accept_language: str | None) -> str:
    """The language of a request, negotiated as `LanguageMiddleware` does (for an
    answer made outside it, such as a refusal by a router's middleware)."""
    return negotiate(_lang_param(query_string), accept_language)


#: Negotiated languages by (query string, Accept-Language), as sent: browsers send a
#: handful of distinct values, so most requests skip the parsing. Emptied when full.
_NEGOTIATED: dict[tuple[bytes, bytes | None], str] = {}
_NEGOTIATED_SIZE: Final = 1024


class LanguageMiddleware:
    """Negotiates the page language of each HTTP request (see `negotiate`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["path"].startswith(_MACHINE_PATHS):
            await self.app(scope, receive, send)
            return
        accept_language = None
        for name, value in scope["headers"]:
            if name == b"accept-language":
                accept_language = value
                break
        query = scope["query_string"]
        key = (query if b"lang=" in query else b"", accept_language)
        lang = _NEGOTIATED.get(key)
        if lang is None:
            lang = negotiate(
                _lang_param(query),
                None if accept_language is None else accept_language.decode("latin-1"),
            )
            if len(_NEGOTIATED) >= _NEGOTIATED_SIZE:
                _NEGOTIATED.clear()
            _NEGOTIATED[key] = lang
        token = _current.set(PageRequest(lang, scope["path"], query))
        try:
            await self.app(scope, receive, send)
        finally:
            _current.reset(token)

"""Pages for people: the home page `/`, the search page `/search`, the bodies page `/bodies`.

Server-rendered, complete without JavaScript, in Chinese or English
(registry/i18n.py, gettext domain `search`). The JSON search is
`GET /api/v1/certificates` (`CertificateSearchController`); both call
`registry.search.services`, whose results come from the read path.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime, timedelta
from typing import Annotated, Any, Final
from urllib.parse import urlencode

import msgspec
from litestar import Controller, Litestar, MediaType, Request, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.response import Template
from piccolo.engine.base import Engine

from registry.dependencies import utc_now
from registry.errors import InvalidInputError, problem_responses
from registry.i18n import current_language
from registry.search import services
from registry.search.counts import COUNT_EVERY, Counts, CountsCache
from registry.search.query import (
    LEVELS,
    MAX_QUERY_CHARS,
    STATUSES,
    SearchQuery,
    parse_search,
)
from registry.search.schemas import SearchPage as SearchPageSchema
from registry.search.services import SearchPage
from registry.settings import Settings
from registry.verification.services import VerificationService
from registry.words import cst_text
from signing.identifiers import PROVINCES
from signing.instants import CST, format_instant

__all__ = ["CertificateSearchController", "SearchPages", "counts_lifespan"]

#: GB/T 2260 provinces in English, for the English page's province filter.
PROVINCES_EN: Final = {
    "11": "Beijing", "12": "Tianjin", "13": "Hebei", "14": "Shanxi", "15": "Inner Mongolia",
    "21": "Liaoning", "22": "Jilin", "23": "Heilongjiang", "31": "Shanghai", "32": "Jiangsu",
    "33": "Zhejiang", "34": "Anhui", "35": "Fujian", "36": "Jiangxi", "37": "Shandong",
    "41": "Henan", "42": "Hubei", "43": "Hunan", "44": "Guangdong", "45": "Guangxi",
    "46": "Hainan", "50": "Chongqing", "51": "Sichuan", "52": "Guizhou", "53": "Yunnan",
    "54": "Tibet", "61": "Shaanxi", "62": "Gansu", "63": "Qinghai", "64": "Ningxia",
    "65": "Xinjiang", "71": "Taiwan", "81": "Hong Kong", "82": "Macao",
}  # fmt: skip
#: How many results the search page shows at once.
PAGE_SIZE: Final = 20
PAGE_HEADERS: Final = {"Vary": "Accept-Language"}

Text = Annotated[str | None, QueryParameter(required=False)]


def _read_engine(state: State) -> Engine[Any]:
    """The engine public reads use: the replica when there is one (`create_app`)."""
    engine: Engine[Any] = state.read_engine
    return engine


def counts_lifespan(
    every: timedelta = COUNT_EVERY,
) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    """The home and bodies pages' counts, made in the background for the life of
    the app: at start, then every `every` (`create_app`’s lifespan), on the engine
    public reads use. No view ever waits for a count (registry/search/counts.py)."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        cache = CountsCache(_read_engine(app.state))
        app.state.search_counts = cache
        task = asyncio.create_task(cache.run(clock=utc_now, every=every))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return lifespan


def _counts(request: Request[Any, Any, Any]) -> Counts | None:
    """The last counts, or None while the first count after start is running."""
    cache: CountsCache = request.app.state.search_counts
    return cache.counts


async def _search(
    request: Request[Any, Any, Any],
    read_path: VerificationService,
    *,
    public_url: str,
    q: str | None,
    level: str | None,
    status: str | None,
    body: str | None,
    province: str | None,
    valid_on: str | None,
    limit: str | int | None,
    cursor: str | None,
) -> tuple[SearchQuery, SearchPage]:
    """The search the page and the API share: the request checked, then one page.

    Raises:
        InvalidInputError: a parameter out of bounds (PRODUCT §4: 4xx).
    """
    query = parse_search(
        q=q,
        level=level,
        status=status,
        body=body,
        province=province,
        valid_on=valid_on,
        limit=limit,
        cursor=cursor,
        now=utc_now(),
    )
    page = await services.search(
        query,
        engine=_read_engine(request.app.state),
        read_path=read_path,
        public_url=public_url,
    )
    return query, page


def province_name(code: str) -> str:
    if current_language() == "en":
        return PROVINCES_EN.get(code, code)
    return PROVINCES.get(code, code)


def _iso(value: datetime | None) -> str:
    return format_instant(value) if value is not None else ""


def _page_context() -> dict[str, Any]:
    """What every search page's templates use (search/_macros.html)."""
    return {
        "levels": list(LEVELS),
        "statuses": list(STATUSES),
        "province_name": province_name,
        "cst": cst_text,
        "iso": _iso,
        "cst_zone": CST,
        "max_query": MAX_QUERY_CHARS,
    }


async def _form_context(
    *,
    q: str = "",
    level: str = "",
    status: str = "",
    body: str = "",
    province: str = "",
    valid_on: str = "",
) -> dict[str, Any]:
    bodies = await services.body_choices()
    return {
        **_page_context(),
        "q": q,
        "level": level,
        "status": status,
        "body": body,
        "province": province,
        "valid_on": valid_on,
        "provinces": [(code, province_name(code)) for code in PROVINCES],
        "bodies": bodies,
        "body_name": functools.partial(_body_name, {b["code"]: b for b in bodies}),
    }


def _body_name(bodies: dict[str, dict[str, Any]], code: str) -> str:
    """A body's name in the page's language (its English name on English pages when it
    has one); its code when the registry does not know it."""
    body = bodies.get(code)
    if body is None:
        return code
    if current_language() == "en" and body["name_en"]:
        return str(body["name_en"])
    return str(body["name"])


class SearchPages(Controller):
    include_in_schema = False

    @get("/", media_type=MediaType.HTML, name="home")
    async def home(
        self, request: Request[Any, Any, Any], read_path: NamedDependency[VerificationService]
    ) -> Template:
        now = utc_now()
        counts = _counts(request)
        changes = await services.latest_status_changes(
            engine=_read_engine(request.app.state), read_path=read_path, now=now, limit=10
        )
        return Template(
            "search/home.html",
            context={
                **await _form_context(),
                "counts": counts,
                "changes": changes,
            },
            headers=PAGE_HEADERS,
        )

    @get("/search", media_type=MediaType.HTML, name="search")
    async def search(
        self,
        request: Request[Any, Any, Any],
        read_path: NamedDependency[VerificationService],
        q: Text = None,
        level: Text = None,
        status: Text = None,
        body_code: Annotated[str | None, QueryParameter(name="body", required=False)] = None,
        province: Text = None,
        valid_on: Text = None,
        page: Text = None,
    ) -> Template:
        given = {
            "q": q or "",
            "level": level or "",
            "status": status or "",
            "body": body_code or "",
            "province": province or "",
            "valid_on": valid_on or "",
        }
        context = await _form_context(**given)
        try:
            query, result = await _search(
                request,
                read_path,
                public_url="",
                q=q,
                level=level,
                status=status,
                body=body_code,
                province=province,
                valid_on=valid_on,
                limit=PAGE_SIZE,
                cursor=page,
            )
        except InvalidInputError as e:
            # The form again, with what to fix (PRODUCT §4: bad input is 4xx).
            return Template(
                "search/search.html",
                context={**context, "problem": e, "query": None, "result": None},
                status_code=422,
                headers=PAGE_HEADERS,
            )
        kept = {k: v for k, v in given.items() if v}
        if current_language() == "en":
            kept["lang"] = "en"
        next_url = None
        if result.next_cursor:
            next_url = "/search?" + urlencode({**kept, "page": result.next_cursor})
        first_url = "/search?" + urlencode(kept) if page else None
        return Template(
            "search/search.html",
            context={
                **context,
                "problem": None,
                "query": query,
                "result": result,
                "next_url": next_url,
                "first_url": first_url,
            },
            headers=PAGE_HEADERS,
        )

    @get("/bodies", media_type=MediaType.HTML, name="bodies")
    async def bodies(self, request: Request[Any, Any, Any]) -> Template:
        counts = _counts(request)
        bodies = await services.bodies_with_keys()
        return Template(
            "search/bodies.html",
            context={**_page_context(), "bodies": bodies, "counts": counts},
            headers=PAGE_HEADERS,
        )


class CertificateSearchController(Controller):
    """`GET /api/v1/certificates`: the search as JSON (the writes on the same path are
    `registry.certificates.controllers`)."""

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
        request: Request[Any, Any, Any],
        settings: NamedDependency[Settings],
        read_path: NamedDependency[VerificationService],
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
    ) -> SearchPageSchema:
        _, page = await _search(
            request,
            read_path,
            public_url=settings.public_url,
            q=q,
            level=level,
            status=status,
            body=body_code,
            province=province,
            valid_on=valid_on,
            limit=limit,
            cursor=cursor,
        )
        return msgspec.convert(
            {
                "items": page.items,
                "next_cursor": page.next_cursor,
                "as_of": format_instant(page.as_of),
            },
            SearchPageSchema,
        )

"""The transparency log's public endpoints (PRODUCT §3 and §4).

`/log/checkpoint` and `/log/key` are plain text for log tools (C2SP); the
entries, proofs and bundles are JSON under `/api/v1/log`.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, MediaType, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from registry.bodies.services import (
    HostedKeyVault,
    load_keyset,
    registry_signer,
    registry_signer_for,
)
from registry.dependencies import utc_now
from registry.errors import problem_responses
from registry.log import feeds, services
from registry.log.schemas import EventPage
from registry.metrics import LOG_SIZE
from registry.settings import Settings
from registry.verification.services import VerificationService

__all__ = ["AtomFeed", "EventFeed", "LogApi", "LogText"]

Whole = Annotated[str | None, QueryParameter(description="a whole number", required=False)]
BodyFilter = Annotated[
    str | None,
    QueryParameter(name="body", description="a certification body's code", required=False),
]
NumberFilter = Annotated[
    str | None, QueryParameter(description="a certificate number", required=False)
]


class LogText(Controller):
    path = "/log"
    tags = ["transparency log"]

    @get(
        "/checkpoint",
        media_type=MediaType.TEXT,
        summary="The latest signed checkpoint (C2SP tlog-checkpoint, signed-note)",
    )
    async def checkpoint(
        self, settings: NamedDependency[Settings], vault: NamedDependency[HostedKeyVault]
    ) -> Response[str]:
        now = utc_now()
        signed = await services.latest_checkpoint(
            origin=settings.log_origin, signer=registry_signer_for(vault, now), now=now
        )
        LOG_SIZE.set(signed.size)
        # Always current at the origin; caches in between may keep it briefly.
        return Response(signed.text, headers={"Cache-Control": "public, max-age=5"})

    @get("/key", media_type=MediaType.TEXT, summary="The checkpoint verifier key (signed-note)")
    async def key(
        self, settings: NamedDependency[Settings], vault: NamedDependency[HostedKeyVault]
    ) -> str:
        key = await registry_signer(vault, utc_now())
        return services.verifier_key(settings.log_origin, key) + "\n"


class LogApi(Controller):
    path = "/api/v1/log"
    tags = ["transparency log"]

    @get(
        "/entries",
        summary="Log entries start..end (end exclusive, at most 1000)",
        responses=problem_responses(400, 422),
    )
    async def entries(self, start: Whole = None, end: Whole = None) -> dict[str, Any]:
        return await services.entries(start, end)

    @get(
        "/proofs/inclusion",
        summary="Inclusion proof of entry `index` in the tree of size `size` (RFC 6962)",
        responses=problem_responses(400, 422),
    )
    async def inclusion(self, index: Whole = None, size: Whole = None) -> dict[str, Any]:
        return await services.inclusion(index, size)

    @get(
        "/proofs/consistency",
        summary="Consistency proof between tree sizes `from` and `to` (RFC 6962)",
        responses=problem_responses(400, 422),
    )
    async def consistency(
        self,
        from_size: Annotated[
            str | None, QueryParameter(name="from", description="a whole number", required=False)
        ] = None,
        to: Whole = None,
    ) -> dict[str, Any]:
        return await services.consistency(from_size, to)

    @get(
        "/bundle",
        summary="An entry with its inclusion proof and the signed checkpoint (offline check)",
        responses=problem_responses(400, 404, 422),
    )
    async def bundle(
        self,
        settings: NamedDependency[Settings],
        vault: NamedDependency[HostedKeyVault],
        index: Whole = None,
    ) -> dict[str, Any]:
        now = utc_now()
        return await services.bundle(
            index, origin=settings.log_origin, signer=registry_signer_for(vault, now), now=now
        )


def _read_engine(request: Request[Any, Any, Any]) -> Any:
    """Public reads go to the replica when there is one (`create_app`)."""
    return request.app.state.read_engine


class EventFeed(Controller):
    path = "/api/v1/events"
    tags = ["feeds"]

    @get(
        "/",
        summary="The change feed: certificate revisions, status events and key statements "
        "in log order, each verified",
        responses=problem_responses(400, 422),
    )
    async def events(
        self,
        request: Request[Any, Any, Any],
        after: Annotated[
            str | None,
            QueryParameter(description="a log index (exclusive): next_cursor", required=False),
        ] = None,
        limit: Annotated[
            str | None, QueryParameter(description="1 to 100 (default 20)", required=False)
        ] = None,
        body_code: BodyFilter = None,
        number: NumberFilter = None,
    ) -> EventPage:
        query = feeds.parse_feed_query(after=after, limit=limit, body=body_code, number=number)
        engine = _read_engine(request)
        keys = await feeds.with_logged_compromises(await load_keyset(), engine=engine)
        page = await feeds.events_page(query, engine=engine, keys=keys, now=utc_now())
        return msgspec.convert(page, EventPage)


class AtomFeed(Controller):
    path = "/feed.atom"
    tags = ["feeds"]

    @get(
        "/",
        summary="The latest 50 changes as Atom 1.0, newest first (in Chinese and English)",
        media_type="application/atom+xml",
        responses=problem_responses(400, 422),
    )
    async def atom(
        self,
        request: Request[Any, Any, Any],
        settings: NamedDependency[Settings],
        body_code: BodyFilter = None,
        number: NumberFilter = None,
    ) -> Response[bytes]:
        query = feeds.parse_feed_query(body=body_code, number=number)
        now = utc_now()
        engine = _read_engine(request)
        keys = await feeds.with_logged_compromises(await load_keyset(), engine=engine)
        items = await feeds.latest_items(query, engine=engine, keys=keys, now=now)
        # A status event names its certificate; the holder is in its signed revisions,
        # read through the one read path (one query for every certificate named).
        service: VerificationService = request.app.state.verification
        numbers = {i.number for i in items if i.number is not None and i.holder is None}
        readings = await service.readings(numbers=numbers, at=now, now=now) if numbers else []
        holders = feeds.holder_names([r for reading in readings for r in reading.revisions])
        document = feeds.atom_feed(
            items, holders=holders, public_url=settings.public_url, query=query, now=now
        )
        return Response(
            document,
            media_type="application/atom+xml; charset=utf-8",
            headers={"Cache-Control": "public, max-age=5"},
        )

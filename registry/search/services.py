"""Search over certificates: `GET /api/v1/certificates` and `/search` (issue 5).

A query is folded (registry/certificates/search_text.py) and cut into terms; every term
must be found, as a literal substring, in the certificate. Results come in
tiers of relevance, and by name within a tier:

====  ===============  =====================================================
rank  match            the certificate...
====  ===============  =====================================================
0     identifier       has the query as its number or USCC (any case)
1     name_start       has a Chinese holder name that starts with the query
2     name_en_start    has an English holder name that starts with the query
3     name             has every term in its Chinese or English name
4     text             has every term somewhere: names, scope, number, USCC
====  ===============  =====================================================

Within a tier the order is the folded name (code point order, the same on
both engines: SQLite BINARY, PostgreSQL "C"), then the number; in tier 2 the
English name. The cursor is the (rank, name, number) of the last row given,
so pages stay stable while rows are added.

No full scan on the hot path (PRODUCT §6). The tiers of identifiers and name
starts are B-tree lookups and ranges, already in order. Each of the other
tiers (name, text, and an empty query's list) is answered in up to three steps:

1. Walk the (name, number) index in order from the cursor, testing each row,
   for at most `WALK_NAMES` entries (the index holds the names and every
   filter column, so the table is not read; `WALK_TEXT` rows for the text
   tier, which reads the scope). With a province, the (province, name,
   number) index: names start with their city, so a province's rows are not
   spread evenly over the order of all names. When many rows match, the page
   is full here.
2. Otherwise few match, or they are far down the order: ask the full-text
   index (SQLite: FTS5 with the filters as tokens; PostgreSQL: the GIN or the
   B-tree indexes, whichever the planner expects fewer rows of) for at most
   `CANDIDATE_LIMIT` rows, test and sort them.
3. More than that and not near the start (rare: a common word in names that
   the earlier tiers took): walk on to the end of the page.

The modules of this package, one concern each: query.py (SearchQuery,
parse_search, the limits), cursor.py (the cursor codec), tiers.py,
dialect.py (what both engines share: the three steps above), sqlite.py and
postgres.py (the engines' indexes), counts.py (the home page's counts). This
module answers: the indexes only find candidates; every row of a page, and
every line of the latest status changes, is read from the certificate's
signed documents through the read path (registry/verification/).

docs/search.md has the plans and the measurements.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine

from registry.bodies.services import list_bodies, list_keys
from registry.errors import FieldError, InvalidInputError
from registry.search.cursor import Position, encode_cursor
from registry.search.dialect import Dialect, sql
from registry.search.postgres import PostgresDialect
from registry.search.query import SearchQuery
from registry.search.sqlite import SQLiteDialect
from registry.search.tiers import Tier
from registry.verification.judging import Reading
from registry.verification.services import VerificationService
from signing.jws import STATUS_TYP

__all__ = [
    "SearchPage",
    "bodies_with_keys",
    "body_choices",
    "latest_status_changes",
    "search",
]


@dataclass(frozen=True)
class SearchPage:
    items: list[dict[str, Any]]
    next_cursor: str | None
    as_of: datetime


def _item(
    reading: Reading, tier: Tier, query: SearchQuery, public_url: str
) -> dict[str, Any] | None:
    """A result from the certificate's signed documents, or None when it no longer fits.

    The row was found by its copies; the answer is re-derived (docs/search.md):
    a certificate whose signatures or copies do not hold is shown as
    `signature_invalid` (or `malformed`) with nothing of its content; one whose
    signed answer at `as_of` is not the level or status filtered for (the
    revision in force then may have another level) is left out.
    """
    number = reading.number
    verdict = reading.verdict
    certificate = verdict.certificate
    item: dict[str, Any] = {
        "number": number,
        "holder_name": None,
        "holder_name_en": None,
        "uscc": None,
        "province": None,
        "level": None,
        "score": None,
        "status": verdict.status.value,
        "valid_from": None,
        "valid_until": None,
        "body": None,
        "match": tier.match,
        "url": f"{public_url}/v/{number}",
    }
    if certificate is None:
        return item
    if (query.status and verdict.status.value != query.status) or (
        query.level and certificate.level.value != query.level
    ):
        return None
    holder = certificate.holder
    item.update(
        holder_name=holder.name,
        holder_name_en=holder.name_en,
        uscc=holder.uscc,
        province=holder.uscc[2:4],
        level=certificate.level.value,
        score=float(certificate.score),
        valid_from=certificate.valid_from.isoformat(),
        valid_until=certificate.valid_until.isoformat(),
        body=certificate.issuer.code,
    )
    return item


async def _body_id(engine: Engine[Any], code: str) -> int:
    rows = await engine.run_querystring(
        sql("SELECT id FROM certification_body WHERE code = {}", code)
    )
    if not rows:
        raise InvalidInputError(
            f"no certification body has the code {code}",
            errors=[FieldError("body", "a certification body's code, see /api/v1/bodies")],
        )
    return int(rows[0]["id"])


async def search(
    query: SearchQuery,
    *,
    engine: Engine[Any],
    read_path: VerificationService,
    public_url: str = "",
) -> SearchPage:
    """One page of results for a parsed query (see the module docstring).

    The indexes of `engine` (the replica for public searches, PRODUCT §6)
    find the candidates; every result shown comes from the certificate's
    signed documents through the read path (`_item`).
    """
    # One read transaction: every tier sees the same snapshot (and, on
    # SQLite, one connection serves them all).
    async with engine.transaction():
        body_id = await _body_id(engine, query.body) if query.body else None
        dialect_class: type[Dialect] = (
            PostgresDialect if isinstance(engine, PostgresEngine) else SQLiteDialect
        )
        dialect = dialect_class(engine, query, body_id)
        found: list[tuple[Tier, dict[str, Any]]] = []
        for tier in dialect.tiers:
            if query.after is not None and tier.rank < query.after.rank:
                continue
            need = query.limit + 1 - len(found)
            if need <= 0:
                break
            found += [(tier, hit) for hit in await dialect.hits(tier, need)]
    page = found[: query.limit]
    readings = {
        r.number: r
        for r in await read_path.readings(
            numbers=[str(hit["number"]) for _, hit in page], at=query.as_of, now=query.now
        )
    }
    items = []
    for tier, hit in page:
        reading = readings.get(str(hit["number"]))
        item = None if reading is None else _item(reading, tier, query, public_url)
        if item is not None:
            items.append(item)
    next_cursor = None
    if len(found) > query.limit:
        tier, hit = page[-1]
        next_cursor = encode_cursor(
            Position(tier.rank, str(hit[tier.key]), str(hit["number"])),
            fingerprint=query.fingerprint,
        )
    return SearchPage(items=items, next_cursor=next_cursor, as_of=query.as_of)


# --- home and bodies pages ----------------------------------------------------------
async def latest_status_changes(
    *, engine: Engine[Any], read_path: VerificationService, now: datetime, limit: int = 10
) -> list[dict[str, Any]]:
    """The last status events recorded (newest first), as their signed documents say.

    The event rows only find which events are the latest; what each line says
    (the change, when it took effect, the holder) is read from the verified
    documents. A certificate whose documents or copies do not hold is listed
    with the status `signature_invalid` and nothing of its content.
    """
    # The log is the record: its latest status events, newest first.
    rows = await engine.run_querystring(
        sql(
            "SELECT number, id FROM log_entry WHERE typ = {} ORDER BY id DESC LIMIT {}",
            STATUS_TYP,
            limit,
        )
    )
    readings = {
        r.number: r
        for r in await read_path.readings(
            numbers=[str(row["number"]) for row in rows], at=now, now=now
        )
    }
    changes: list[dict[str, Any]] = []
    for row in rows:
        reading = readings.get(str(row["number"]))
        if reading is None or reading.snapshot is None:
            continue
        logged = [e.log_index for e in reading.snapshot.events]
        index = int(row["id"])
        if reading.verdict.certificate is None or index not in logged:
            changes.append(
                {
                    "number": reading.number,
                    "status": reading.verdict.status.value,
                    "event": None,
                    "recorded_at": None,
                }
            )
            continue
        position = logged.index(index)
        event = reading.events[position]
        holder = reading.revisions[-1].holder
        changes.append(
            {
                "number": reading.number,
                "status": reading.verdict.status.value,
                "event": event.status.value,
                "effective_at": event.effective_at,
                "recorded_at": reading.snapshot.events[position].recorded_at,
                "holder_name": holder.name,
                "holder_name_en": holder.name_en,
                "level": reading.revisions[-1].level.value,
            }
        )
    return changes


async def body_choices() -> list[dict[str, Any]]:
    """Every certification body: code, name, English name (for the search form)."""
    return [
        {"code": b["code"], "name": b["name"], "name_en": b["name_en"]} for b in await list_bodies()
    ]


async def bodies_with_keys() -> list[dict[str, Any]]:
    """Every certification body with its keys (kid, window, state)."""
    keys_by_body: dict[str, list[dict[str, Any]]] = {}
    for key in await list_keys():
        if key["body_code"] is not None:
            keys_by_body.setdefault(key["body_code"], []).append(key)
    return [
        {
            "code": body["code"],
            "name": body["name"],
            "name_en": body["name_en"],
            "approval_no": body["approval_no"],
            "website": body["website"],
            "phone": body["phone"],
            "signing_keys": keys_by_body.get(body["code"], []),
        }
        for body in await list_bodies()
    ]

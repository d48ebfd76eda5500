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
from datetime import UTC, datetime, time
from typing import Any, Final

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
from signing.instants import CST
from signing.jws import CERTIFICATE_TYP, STATUS_TYP

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
#: Status events that are news to a shopper; a passed yearly surveillance is routine
#: and a certificate that stays valid is no change worth a line on the home page.
_EPOCH: Final = datetime(2000, 1, 1, tzinfo=UTC)
NOTEWORTHY_EVENTS: Final = frozenset({"suspended", "reinstated", "revoked", "withdrawn"})


async def latest_status_changes(
    *, engine: Engine[Any], read_path: VerificationService, now: datetime, limit: int = 10
) -> list[dict[str, Any]]:
    """The latest changes that matter (newest first), one line a certificate, as the
    signed documents say them: a new certificate, a suspension, a reinstatement, a
    revocation, a withdrawal, a new star level. Routine surveillance is left out.

    The log rows only find which documents are the latest; what each line says
    (the change, when it took effect, the holder, the levels) is read from the
    verified documents. A certificate whose documents or copies do not hold is
    listed with the status `signature_invalid` and nothing of its content.
    """
    # The log is the record: its latest certificate and status documents, newest first.
    # Routine lines are skipped below, so more rows are read than lines shown.
    rows = await engine.run_querystring(
        sql(
            "SELECT number, id, typ FROM log_entry WHERE typ IN ({}, {}) ORDER BY id DESC LIMIT {}",
            CERTIFICATE_TYP,
            STATUS_TYP,
            limit * 8,
        )
    )
    readings = {
        r.number: r
        for r in await read_path.readings(
            numbers=list(dict.fromkeys(str(row["number"]) for row in rows)), at=now, now=now
        )
    }
    changes: list[dict[str, Any]] = []
    shown: set[str] = set()
    for row in rows:
        number = str(row["number"])
        reading = readings.get(number)
        if number in shown or reading is None or reading.snapshot is None:
            continue
        line = _change_line(reading, int(row["id"]), str(row["typ"]))
        if line is not None:
            shown.add(number)
            changes.append(line)
    # Newest change first by when it took effect: a body that uploads its older
    # certificates today does not push this week's revocation off the page.
    changes.sort(key=lambda line: line["when"], reverse=True)
    return changes[:limit]


def _change_line(reading: Reading, index: int, typ: str) -> dict[str, Any] | None:
    """What the log entry `index` changed about the certificate, or None when it is
    routine (a passed surveillance, a revision that keeps the level)."""
    assert reading.snapshot is not None
    line: dict[str, Any] = {
        "number": reading.number,
        "status": reading.verdict.status.value,
        "kind": None,
        "when": reading.snapshot.revisions[-1].recorded_at
        if reading.snapshot.revisions
        else _EPOCH,
    }
    if reading.verdict.certificate is None:
        return line
    logged = reading.snapshot.events if typ == STATUS_TYP else reading.snapshot.revisions
    positions = [document.log_index for document in logged]
    if index not in positions:
        return None
    position = positions.index(index)
    holder = reading.revisions[-1].holder
    line.update(
        holder_name=holder.name,
        holder_name_en=holder.name_en,
        level=reading.revisions[-1].level.value,
        recorded_at=logged[position].recorded_at,
    )
    if typ == STATUS_TYP:
        event = reading.events[position]
        if event.status.value not in NOTEWORTHY_EVENTS:
            return None
        line.update(
            kind="event",
            event=event.status.value,
            effective_at=event.effective_at,
            when=event.effective_at,
        )
        return line
    if position == 0:
        first = reading.revisions[0]
        line.update(
            kind="new",
            new_level=first.level.value,
            # Issued on a day not yet come (a certificate signed ahead): listed as of
            # when the registry recorded it, not above this week's changes.
            when=min(datetime.combine(first.issued_on, time(0), CST), logged[position].recorded_at),
        )
        return line
    before, after = reading.revisions[position - 1].level, reading.revisions[position].level
    if before == after:
        return None
    line.update(
        kind="level",
        old_level=before.value,
        new_level=after.value,
        when=reading.revisions[position].signed_at,
    )
    return line


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

"""Validating and signing bulk-import rows, here or in worker processes.

Validating a row (`CertificatePayload.build`), folding its search text and
signing it cost a certificate about as much CPU as SQLite's writes of it
(docs/benchmarks.md, "Bulk issuance"). Done one after the other in one
process, they cap `starmark cert import` below 2,000 certificates a second.
A large import therefore prepares its rows in worker processes while the
importer's own process writes the batches before them (`prepared`): on two
cores, one signs while the other writes. Threads would not do: both halves
are Python holding the GIL, and SQLite, which lets it go inside a statement,
would wait up to a switch interval for it back after every row.

What crosses between the processes is plain data: rows in, and per row the
JWS, its copied columns (`registry.certificates.columns`) and its signing
time out, or why the row was refused. The worker gets the signing key as its
RFC 8032 seed once, when it starts, over the pipe `multiprocessing` opens to
its own child; the key is never written anywhere.

Small imports (the console's chunks, a few hundred rows from the CLI) are
prepared in this process by the same function: starting a worker costs more
than it saves under `PROCESS_MIN_ROWS` rows.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import multiprocessing.connection
import os
import threading
from collections import deque
from collections.abc import AsyncGenerator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from multiprocessing.process import BaseProcess
from typing import Any, Final

from registry.certificates.columns import COPIED_COLUMNS, certificate_columns
from signing.documents import CertificatePayload
from signing.errors import InvalidPayloadError
from signing.jws import CERTIFICATE_TYP, sign_compact
from signing.keys import PrivateKey

__all__ = [
    "FIELD_TO_COLUMN",
    "PROCESS_MIN_ROWS",
    "Issuer",
    "Prepared",
    "Refused",
    "prepare_rows",
    "prepared",
    "row_to_fields",
]

#: Below this many rows an import is prepared in its own process. Where the two
#: break even on two cores (bench/bench_import.py, docs/benchmarks.md): workers
#: are 10% slower at 5,000 rows, even at 7,500, 14% faster at 10,000.
PROCESS_MIN_ROWS: Final = 7500
#: Rows a worker prepares per task: large enough that pickling is a small
#: share, small enough that the first batch is written soon.
CHUNK_ROWS: Final = 500
#: Tasks queued ahead per worker, so that a worker never waits for the writer
#: to ask (about 2,000 rows ahead with one worker).
AHEAD_PER_WORKER: Final = 4

#: Column names as the payload names them, for messages that point at the CSV.
FIELD_TO_COLUMN: Final = {
    "holder.name": "holder_name",
    "holder.name_en": "holder_name_en",
    "holder.uscc": "uscc",
    "holder.address": "address",
    "scope.zh": "scope_zh",
    "scope.en": "scope_en",
}

Row = tuple[int, dict[str, str]]


@dataclass(frozen=True, slots=True)
class Issuer:
    """Who signs, and when: the same for every row of one import."""

    code: str
    name: str
    signed_at: datetime


@dataclass(frozen=True, slots=True)
class Prepared:
    """A valid row, signed."""

    line: int
    #: The row's number as written, upper-cased: what repeats are found by.
    given: str
    #: The payload's number (the certificate's).
    number: str
    jws: str
    signed_at: datetime
    #: The copied columns' values, in `COPIED_COLUMNS` order.
    copies: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Refused:
    """A row that is not a certificate, and why (the message names CSV columns)."""

    line: int
    given: str
    message: str


def row_to_fields(row: Mapping[str, str]) -> dict[str, Any]:
    """The fields `CertificatePayload.build` takes, from a row keyed by CSV column."""

    def optional(name: str) -> str | None:
        return row.get(name) or None

    holder: dict[str, Any] = {"name": row["holder_name"], "uscc": row["uscc"]}
    if optional("holder_name_en"):
        holder["name_en"] = row["holder_name_en"]
    if optional("address"):
        holder["address"] = row["address"]
    scope: dict[str, Any] = {"zh": row["scope_zh"]}
    if optional("scope_en"):
        scope["en"] = row["scope_en"]
    fields: dict[str, Any] = {
        "number": row["number"],
        "score": row["score"],
        "holder": holder,
        "scope": scope,
        "issued_on": row["issued_on"],
        "valid_from": row["valid_from"],
    }
    if optional("valid_until"):
        fields["valid_until"] = row["valid_until"]
    if optional("sites"):
        fields["sites"] = [s.strip() for s in row["sites"].split(";") if s.strip()]
    return fields


def _problem_text(err: InvalidPayloadError) -> str:
    return "; ".join(f"{FIELD_TO_COLUMN.get(p.field, p.field)}: {p.message}" for p in err.problems)


def prepare_rows(
    rows: Sequence[Row], *, issuer: Issuer, signer: PrivateKey
) -> list[Prepared | Refused]:
    """Each row validated and signed, or refused; in the rows' order.

    A row the CSV reader already refused carries ``__error__`` (a cell count
    that does not match the header). Repeats within the file are the caller's
    to find: it sees the rows in order, a worker sees one chunk.
    """
    out: list[Prepared | Refused] = []
    for line, row in rows:
        given = row.get("number", "").upper()
        if "__error__" in row:
            out.append(Refused(line, "", row["__error__"]))
            continue
        try:
            payload = CertificatePayload.build(
                row_to_fields(row),
                issuer_code=issuer.code,
                issuer_name=issuer.name,
                revision=1,
                signed_at=issuer.signed_at,
            )
        except InvalidPayloadError as e:
            out.append(Refused(line, given, _problem_text(e)))
            continue
        copies = certificate_columns(payload)
        out.append(
            Prepared(
                line,
                given,
                payload.number,
                sign_compact(payload.to_json(), key=signer, typ=CERTIFICATE_TYP),
                payload.signed_at,
                tuple(copies[column] for column in COPIED_COLUMNS),
            )
        )
    return out


# The worker process's own state, set once by `_start_worker`.
_worker: dict[str, Any] = {}


def _start_worker(seed: bytes, issuer: Issuer) -> None:
    _worker["signer"] = PrivateKey.from_seed(seed)
    _worker["issuer"] = issuer
    # A worker waits on its task queue, which a killed importer (kill -9, an
    # out-of-memory kill) never closes: it leaves with its parent instead.
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()


def _exit_with(parent: BaseProcess) -> None:
    multiprocessing.connection.wait([parent.sentinel])
    os._exit(1)


def _prepare_in_worker(rows: Sequence[Row]) -> list[Prepared | Refused]:
    return prepare_rows(rows, issuer=_worker["issuer"], signer=_worker["signer"])


def worker_count() -> int:
    """Worker processes for a large import: the cores but the writer's, at most four."""
    return max(1, min(4, (os.cpu_count() or 2) - 1))


async def prepared(
    rows: Sequence[Row],
    *,
    issuer: Issuer,
    signer: PrivateKey,
    workers: int | None = None,
    process_min_rows: int = PROCESS_MIN_ROWS,
) -> AsyncGenerator[Prepared | Refused, None]:
    """`prepare_rows` of every row, in order, as the rows become ready.

    With `process_min_rows` rows or more, worker processes prepare chunks
    ahead while the caller writes what it has; otherwise this process
    prepares a chunk at a time, letting the event loop run between chunks.
    """
    if len(rows) < process_min_rows:
        for start in range(0, len(rows), CHUNK_ROWS):
            for item in prepare_rows(
                rows[start : start + CHUNK_ROWS], issuer=issuer, signer=signer
            ):
                yield item
            await asyncio.sleep(0)
        return
    count = workers or worker_count()
    # "spawn": a fresh interpreter, never a fork of a process holding an event
    # loop, database connections and threads.
    pool = ProcessPoolExecutor(
        max_workers=count,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_worker,
        initargs=(signer.seed(), issuer),
    )
    try:
        chunks = (rows[start : start + CHUNK_ROWS] for start in range(0, len(rows), CHUNK_ROWS))
        queued: deque[Future[list[Prepared | Refused]]] = deque()

        def submit_next() -> None:
            chunk = next(chunks, None)
            if chunk is not None:
                queued.append(pool.submit(_prepare_in_worker, chunk))

        for _ in range(count * AHEAD_PER_WORKER):
            submit_next()
        while queued:
            done = await asyncio.wrap_future(queued.popleft())
            submit_next()
            for item in done:
                yield item
    finally:
        # Waits for a chunk being prepared (a fraction of a second) when the
        # import stopped early, so that no worker outlives it.
        pool.shutdown(wait=True, cancel_futures=True)

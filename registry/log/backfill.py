"""Bringing a database from before the log into it (issue 10).

Documents stored without a leaf (a database of the first release, upgraded
with `starmark db migrate`) are appended in the order they were recorded,
revisions and events interleaved by `recorded_at`, in one transaction; then
every body key without a statement gets one, signed with the registry's key.
Run at `starmark db migrate` and at every start of the app: with nothing to
do it costs two indexed queries.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from registry.bodies.services import (
    HostedKeyVault,
    body_key_ids,
    log_key_statement,
    registry_signer,
    whole_second,
)
from registry.certificates.tables import CertificateRevision, StatusEvent
from registry.db import write_transaction
from registry.log.store import NewEntry, append_entries
from registry.log.tables import LogEntry
from signing.documents import KeyStatementPayload
from signing.jws import CERTIFICATE_TYP, KEY_TYP, STATUS_TYP, CompactJWS

__all__ = ["backfill_log"]


async def _unlogged() -> list[tuple[datetime, int, str, Any, dict[str, Any]]]:
    found: list[tuple[datetime, int, str, Any, dict[str, Any]]] = []
    tables = ((CertificateRevision, CERTIFICATE_TYP, 0), (StatusEvent, STATUS_TYP, 1))
    for table, typ, order in tables:
        rows = await table.select(
            table.id,
            table.jws,
            table.recorded_at,
            table.certificate.number.as_alias("number"),
            table.certificate.body.code.as_alias("body"),  # type: ignore[union-attr]
        ).where(table.log_index.is_null())
        found += [(r["recorded_at"], order, typ, table, r) for r in rows]
    # Recorded order; a revision before an event recorded in the same instant.
    found.sort(key=lambda f: (f[0], f[1], f[4]["id"]))
    return found


async def _stated_kids() -> set[str]:
    rows = await LogEntry.select(LogEntry.jws).where(LogEntry.typ == KEY_TYP)
    return {
        KeyStatementPayload.from_json(json.loads(CompactJWS.parse(r["jws"]).payload_bytes)).kid
        for r in rows
    }


async def backfill_log(*, vault: HostedKeyVault, now: datetime) -> int:
    """Append what is not in the log yet; answers how many entries were added."""
    documents = await _unlogged()
    added = 0
    if documents:
        async with write_transaction(LogEntry._meta.db):
            indexes = await append_entries(
                [
                    NewEntry(
                        typ,
                        row["jws"],
                        body=row["body"],
                        number=row["number"],
                        recorded_at=recorded_at,
                    )
                    for recorded_at, _, typ, _, row in documents
                ],
                recorded_at=now,
            )
            for (_, _, _, table, row), index in zip(documents, indexes, strict=True):
                await table.update({table.log_index: index}).where(table.id == row["id"])
        added += len(documents)
    stated = await _stated_kids()
    missing = [kid for kid in await body_key_ids() if kid not in stated]
    if missing:
        signer = await registry_signer(vault, now)
        async with write_transaction(LogEntry._meta.db):
            for kid in missing:
                await log_key_statement(kid, signer=signer, now=whole_second(now))
        added += len(missing)
    return added

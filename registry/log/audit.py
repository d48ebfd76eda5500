"""`starmark log verify`: the whole log recomputed and held against everything.

Recomputes the tree from the stored documents (the JWS of every entry, in
order) and checks, without holding the tree in memory (the right edge and
one page of entries at a time):

* entries are numbered 0, 1, 2... with no gap;
* every stored subtree hash (what proofs are served from) is the recomputed one;
* every stored checkpoint's signature verifies with the registry's key and
  its root is the recomputed root at its size; the latest covers the log;
* every revision and status event row points at a log entry with the same
  JWS, and every certificate document in the log has its row: a logged
  document missing from the tables, or a stored document missing from the
  log, is an error.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from registry.certificates.tables import CertificateRevision, StatusEvent
from registry.log.store import node_id
from registry.log.tables import LogCheckpoint, LogEntry, LogNode
from signing.checkpoint import open_checkpoint
from signing.errors import SigningError
from signing.jws import CERTIFICATE_TYP, STATUS_TYP
from signing.merkle import Node, append_leaves, assemble_root_hash, leaf_hash, root_nodes
from signing.note import NoteVerifier

__all__ = ["LogReport", "audit_log"]

#: Entries read per query while recomputing.
PAGE: Final = 5_000
#: Problems listed in full; past that, counted.
SHOWN: Final = 50


@dataclass
class LogReport:
    size: int = 0
    checkpoints: int = 0
    problems: list[str] = field(default_factory=list)
    more: int = 0

    @property
    def clean(self) -> bool:
        return not self.problems

    def add(self, problem: str) -> None:
        if len(self.problems) < SHOWN:
            self.problems.append(problem)
        else:
            self.more += 1


async def _stored_nodes(nodes: Iterable[Node]) -> dict[int, bytes]:
    ids = [node_id(n) for n in nodes]
    stored: dict[int, bytes] = {}
    for start in range(0, len(ids), 2_000):
        rows = await LogNode.select(LogNode.id, LogNode.hash).where(
            LogNode.id.is_in(ids[start : start + 2_000])
        )
        stored.update({int(r["id"]): bytes(r["hash"]) for r in rows})
    return stored


async def _recompute(
    report: LogReport, roots_wanted: set[int]
) -> tuple[dict[int, bytes], dict[int, str]]:
    """Walk every entry; answers the roots at the sizes wanted and each entry's JWS by index
    for the certificate documents (to hold the tables against)."""
    edge: dict[Node, bytes] = {}
    roots: dict[int, bytes] = {}
    documents: dict[int, str] = {}
    size = 0
    if 0 in roots_wanted:
        roots[0] = assemble_root_hash(0, {})
    while True:
        rows = (
            await LogEntry.select(LogEntry.id, LogEntry.typ, LogEntry.jws)
            .where(LogEntry.id >= size)
            .order_by(LogEntry.id)
            .limit(PAGE)
        )
        if not rows:
            break
        computed: dict[Node, bytes] = {}
        for row in rows:
            index = int(row["id"])
            if index != size:
                report.add(f"the log skips from entry {size - 1} to entry {index}")
                return roots, documents
            jws = str(row["jws"])
            if row["typ"] in (CERTIFICATE_TYP, STATUS_TYP):
                documents[index] = jws
            new = append_leaves([leaf_hash(jws.encode("ascii"))], size=size, edge=edge)
            computed.update(new)
            edge.update(new)
            size += 1
            # Keep only the right edge: O(log n) hashes, whatever the size.
            keep = set(root_nodes(size))
            for node in [n for n in edge if n not in keep]:
                del edge[node]
            if size in roots_wanted:
                roots[size] = assemble_root_hash(size, edge)
        stored = await _stored_nodes(computed)
        for node, digest in computed.items():
            if stored.get(node_id(node)) != digest:
                report.add(
                    f"the stored hash of subtree (level {node.level}, index {node.index}) "
                    "is not the one the entries give"
                )
    report.size = size
    return roots, documents


async def audit_log(*, verifier: NoteVerifier | None) -> LogReport:
    """Check the whole log (see the module docstring).

    ``verifier`` checks the checkpoints; None when there is no key to check
    them with (then a stored checkpoint is a problem).
    """
    report = LogReport()
    checkpoints = await LogCheckpoint.select(
        LogCheckpoint.size, LogCheckpoint.root, LogCheckpoint.text
    ).order_by(LogCheckpoint.size)
    roots, documents = await _recompute(report, {int(c["size"]) for c in checkpoints})
    report.checkpoints = len(checkpoints)
    for row in checkpoints:
        size = int(row["size"])
        if verifier is None:
            report.add(f"the checkpoint of size {size} cannot be checked: no registry key")
            continue
        try:
            checkpoint = open_checkpoint(str(row["text"]), verifier=verifier)
        except SigningError as e:
            report.add(f"the checkpoint of size {size} does not verify: {e}")
            continue
        if checkpoint.size != size or checkpoint.root != bytes(row["root"]):
            report.add(f"the checkpoint of size {size} says another size or root than stored")
        if size > report.size:
            report.add(f"the checkpoint of size {size} covers more than the log's {report.size}")
        elif roots.get(size) != checkpoint.root:
            report.add(
                f"the log's first {size} entries no longer give the root the registry "
                f"signed at size {size}: history was rewritten"
            )
    await _hold_tables(report, documents)
    return report


async def _hold_tables(report: LogReport, documents: dict[int, str]) -> None:
    rows: list[dict[str, Any]] = [
        *await CertificateRevision.select(
            CertificateRevision.log_index,
            CertificateRevision.jws,
            CertificateRevision.certificate.number.as_alias("number"),
        ),
        *await StatusEvent.select(
            StatusEvent.log_index,
            StatusEvent.jws,
            StatusEvent.certificate.number.as_alias("number"),
        ),
    ]
    seen: set[int] = set()
    for row in rows:
        index = row["log_index"]
        if index is None:
            report.add(f"a document of {row['number']} is stored but not in the log")
            continue
        seen.add(int(index))
        if documents.get(int(index)) != row["jws"]:
            report.add(f"a document of {row['number']} differs from log entry {index}")
    for index in sorted(set(documents) - seen):
        report.add(f"log entry {index} is a certificate document missing from the tables")

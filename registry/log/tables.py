"""The transparency log's tables (PRODUCT §3, "The transparency log, exactly").

`log_entry` is the one store of signed documents: every certificate revision,
status event and key statement, in the order the registry accepted it. The
certificate, revision and event tables are indexes over it (they find
candidates and carry the write side's state); the read path reads a
certificate's documents from here (docs/architecture.md).
"""

from __future__ import annotations

from piccolo.columns import BigInt, Bytea, Text, Timestamptz, Varchar
from piccolo.table import Table


class LogEntry(Table, tablename="log_entry"):
    #: The leaf index: 0, 1, 2... with no gap (appends are serialised).
    id = BigInt(primary_key=True)
    #: The JWS `typ`: starmark-cert+jws, starmark-status+jws or starmark-key+jws.
    typ = Varchar(length=32)
    #: The compact JWS exactly as accepted: the leaf data is its ASCII bytes.
    jws = Text()
    #: When the registry accepted it: the time the registry trusts.
    recorded_at = Timestamptz()
    #: The certificate it is about (null for key statements): finds a certificate's documents.
    number = Varchar(length=40, null=True, default=None, index=True)
    #: The body it is about (the issuer's code): the feeds filter by it.
    body = Varchar(length=32, index=True)


class LogNode(Table, tablename="log_node"):
    """The hash of every complete subtree: `(level << 48) | index` (signing.merkle.Node)."""

    id = BigInt(primary_key=True)
    hash = Bytea()


class LogCheckpoint(Table, tablename="log_checkpoint"):
    """Signed checkpoints (C2SP tlog-checkpoint), one per tree size signed."""

    size = BigInt(primary_key=True)
    root = Bytea()
    #: The signed note exactly as served at /log/checkpoint.
    text = Text()
    created_at = Timestamptz()

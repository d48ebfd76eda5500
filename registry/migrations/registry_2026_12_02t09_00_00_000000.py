"""A change counter for the read side's snapshot cache on PostgreSQL. Written by hand.

PostgreSQL
    A one-row table `registry_change(counter bigint)`, bumped in the writing
    transaction by a statement-level trigger after every INSERT, UPDATE,
    DELETE and TRUNCATE of the tables a snapshot is made of (certificate,
    certificate_revision, status_event, signing_key, certification_body, and
    log_entry, where the signed documents are read from).
    `registry.verification.snapshots.PostgresSnapshotReader` reads it once a
    request, a cheap primary-key read, and keeps the snapshots it has read while it
    stays the same: a commit from any process changes it for the next request.
    The bump is part of the writer's transaction (not a sequence, which would
    move before the commit), so a reader never sees a new counter with old rows.
    Writers of those tables queue on the one row until they commit.
SQLite
    Nothing: `PRAGMA data_version` already tells a connection that another has
    committed (`SQLiteSnapshotReader`).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.postgres import PostgresEngine

ID = "2026-12-02T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "registry_change: a counter bumped by every write to what snapshots read (PostgreSQL)"

#: The tables a snapshot reads (registry/verification/snapshots.py).
WATCHED = (
    "certificate",
    "certificate_revision",
    "status_event",
    "signing_key",
    "certification_body",
    "log_entry",
)

POSTGRES = (
    "CREATE TABLE registry_change ("
    " one boolean PRIMARY KEY DEFAULT true CHECK (one),"
    " counter bigint NOT NULL)",
    "INSERT INTO registry_change (one, counter) VALUES (true, 0)",
    """CREATE FUNCTION registry_change_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE registry_change SET counter = counter + 1;
    RETURN NULL;
END
$$""",
    # Once per statement, not per row: a bulk import's COPY or multi-row
    # INSERT bumps it once. TRUNCATE fires no row triggers, hence its own.
    *(
        f"CREATE TRIGGER {table}_registry_change "
        f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION registry_change_bump()"
        for table in WATCHED
    ),
)


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def run() -> None:
        engine = engine_finder()
        assert engine is not None
        if isinstance(engine, PostgresEngine):
            for statement in POSTGRES:
                await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager

"""Unique log positions and the lookup of a certificate's documents, written by hand.

`CREATE UNIQUE INDEX` means the same on both engines (SQLite cannot add a
UNIQUE column). (number, id) lets the read path fetch a certificate's log
entries in log order from the index alone.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-02T00:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "Unique log_index on revisions and events; log_entry (number, id)"

STATEMENTS = (
    "CREATE UNIQUE INDEX IF NOT EXISTS certificate_revision_log_index "
    "ON certificate_revision (log_index)",
    "CREATE UNIQUE INDEX IF NOT EXISTS status_event_log_index ON status_event (log_index)",
    "CREATE INDEX IF NOT EXISTS log_entry_number_id ON log_entry (number, id)",
)


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def run() -> None:
        engine = engine_finder()
        assert engine is not None
        for statement in STATEMENTS:
            await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager

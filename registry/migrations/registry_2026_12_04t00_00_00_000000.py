"""Signed checkpoints bump the change counter too (PostgreSQL). Written by hand.

The verification page shows, for each of a certificate's documents, the
first signed checkpoint that covers it. Checkpoints are signed on demand
(registry/log/services.py), so a document may have none yet; the page then
looks again only when the database has changed since it last looked: on
SQLite `PRAGMA data_version` tells it (any commit), on PostgreSQL the
`registry_change` counter of the migration of 2026-12-02, which did not
watch `log_checkpoint`. Without this trigger a page on PostgreSQL would not
see a new checkpoint until something else was written.

PostgreSQL
    The statement-level trigger of the 2026-12-02 migration, on `log_checkpoint`.
SQLite
    Nothing.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.postgres import PostgresEngine

ID = "2026-12-04T00:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "registry_change: bumped by every signed checkpoint too (PostgreSQL)"

POSTGRES = (
    "CREATE TRIGGER log_checkpoint_registry_change "
    "AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON log_checkpoint "
    "FOR EACH STATEMENT EXECUTE FUNCTION registry_change_bump()",
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

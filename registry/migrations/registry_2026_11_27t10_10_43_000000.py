"""Unique indexes over several columns, written by hand.

Piccolo's `Unique` constraint is added with `ALTER TABLE ... ADD CONSTRAINT`,
which SQLite does not have; `CREATE UNIQUE INDEX` means the same on both
engines.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-27T10:10:43:000000"
VERSION = "1.38.0"
DESCRIPTION = "Unique (certificate, revision), (certificate, seq) and (scope, key)"

STATEMENTS = (
    "CREATE UNIQUE INDEX IF NOT EXISTS certificate_revision_unique "
    "ON certificate_revision (certificate, revision)",
    "CREATE UNIQUE INDEX IF NOT EXISTS status_event_unique ON status_event (certificate, seq)",
    "CREATE UNIQUE INDEX IF NOT EXISTS idempotent_reply_unique ON idempotent_reply (scope, key)",
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

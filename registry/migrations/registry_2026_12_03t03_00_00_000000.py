"""An index over the log's key statements, by body. Written by hand.

The read side reads, with every certificate, the key statements
(`starmark-key+jws`) of its body from `log_entry`, to judge a compromised
key by log position (registry/verification/snapshots.py). The `body` index
alone would walk every entry of the body (all its certificates' documents);
this partial index holds the key statements only. The same statement on
both engines (both have partial indexes).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-03T03:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "log_entry_key_statement: the log's key statements by body, in log order"

STATEMENTS = (
    "CREATE INDEX log_entry_key_statement ON log_entry (body, id) "
    "WHERE typ = 'starmark-key+jws'",
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

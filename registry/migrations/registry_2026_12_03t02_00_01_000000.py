"""The indexes of consumer_report and scan_count, written by hand.

`CREATE UNIQUE INDEX` means the same on both engines; (number, day) is the
conflict target of the scan counts' UPSERT (`registry.feedback.scans`), and
(body_code, id) serves a body's reports, newest first.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-03T02:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "Unique scan_count (number, day); consumer_report (body_code, id)"

STATEMENTS = (
    "CREATE UNIQUE INDEX IF NOT EXISTS scan_count_number_day ON scan_count (number, day)",
    "CREATE INDEX IF NOT EXISTS consumer_report_body_id ON consumer_report (body_code, id)",
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

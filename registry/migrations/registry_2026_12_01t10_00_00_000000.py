"""Search columns of `certificate` (issue 5), written by hand.

Added with Piccolo's `add_column` (ALTER TABLE ... ADD COLUMN, which SQLite
has), so that later auto-migrations know them. They are filled, and indexed,
by the next migration: Piccolo runs a migration's raw SQL before its
add_column steps, so the two cannot share one migration.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Text
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-01T10:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "certificate: name_key, name_en_key, scope_key (search)"

COMMON = {
    "default": "",
    "null": False,
    "primary_key": False,
    "unique": False,
    "index": False,
    "index_method": IndexMethod.btree,
    "choices": None,
    "db_column_name": None,
    "secret": False,
}


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)
    for name in ("name_key", "name_en_key", "scope_key"):
        manager.add_column(
            table_class_name="Certificate",
            tablename="certificate",
            column_name=name,
            db_column_name=name,
            column_class_name="Text",
            column_class=Text,
            params=COMMON,
            schema=None,
        )
    return manager

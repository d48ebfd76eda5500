"""Receipts of bulk verifications, and one active registry key at most. Written by hand.

The table is added with Piccolo's `add_table`/`add_column` (so later
auto-migrations know it); the partial unique index is raw SQL, which means the
same on SQLite and PostgreSQL. It makes a race between processes that start at
once and both create the registry's own key end with one key: the second
insert fails on the index and that process uses the first key
(`registry.bodies.services.ensure_registry_key`).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod
from piccolo.engine import engine_finder

ID = "2026-12-01T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "verification_receipt; at most one active registry key"

TABLE = {"table_class_name": "VerificationReceipt", "tablename": "verification_receipt"}
COMMON = {
    "unique": False,
    "index": False,
    "index_method": IndexMethod.btree,
    "choices": None,
    "db_column_name": None,
    "secret": False,
}

STATEMENTS = (
    "CREATE UNIQUE INDEX IF NOT EXISTS signing_key_one_active_registry_key "
    "ON signing_key (state) WHERE body IS NULL AND state = 'active'",
)


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)
    manager.add_table(
        class_name="VerificationReceipt",
        tablename="verification_receipt",
        schema=None,
        columns=None,
    )
    columns = (
        ("id", Varchar, {"length": 43, "default": "", "null": False, "primary_key": True}),
        ("jws", Text, {"default": "", "null": False, "primary_key": False}),
        ("as_of", Timestamptz, {"default": TimestamptzNow(), "null": False, "primary_key": False}),
        (
            "checked_at",
            Timestamptz,
            {"default": TimestamptzNow(), "null": False, "primary_key": False},
        ),
        ("item_count", Integer, {"default": 0, "null": False, "primary_key": False}),
        (
            "created_at",
            Timestamptz,
            {"default": TimestamptzNow(), "null": False, "primary_key": False},
        ),
    )
    for name, column_class, params in columns:
        manager.add_column(
            **TABLE,
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params={**params, **COMMON},
            schema=None,
        )

    async def run() -> None:
        engine = engine_finder()
        assert engine is not None
        for statement in STATEMENTS:
            await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager

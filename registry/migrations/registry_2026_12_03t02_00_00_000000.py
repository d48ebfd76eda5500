"""Consumer reports, scan counts, and a body's approval number, web site and telephone.

Written by hand. Tables and columns through Piccolo's `add_table`/`add_column`
(so later auto-migrations know them); their indexes are the next migration's
(Piccolo runs a migration's raw SQL before its new tables exist).
"""

from typing import Any

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import BigInt, Bytea, Date, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.date import DateNow
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-03T02:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "consumer_report, scan_count; approval_no, website, phone of certification_body"

COMMON = {
    "unique": False,
    "index_method": IndexMethod.btree,
    "choices": None,
    "db_column_name": None,
    "secret": False,
}


def _optional_varchar(length: int) -> dict[str, Any]:
    return {"length": length, "default": None, "null": True, "primary_key": False, "index": False}


#: (attribute, column class, params[, database column name when it differs]).
COLUMNS: dict[tuple[str, str], tuple[tuple[Any, ...], ...]] = {
    ("ConsumerReport", "consumer_report"): (
        ("id", Serial, {"null": False, "primary_key": True, "index": False}),
        (
            "number",
            Varchar,
            {"length": 40, "default": "", "null": False, "primary_key": False, "index": True},
        ),
        (
            "body_code",
            Varchar,
            {"length": 32, "default": "", "null": False, "primary_key": False, "index": True},
        ),
        (
            "created_at",
            Timestamptz,
            {"default": TimestamptzNow(), "null": False, "primary_key": False, "index": False},
        ),
        (
            "bought_where",
            Varchar,
            {"length": 200, "default": "", "null": False, "primary_key": False, "index": False},
        ),
        (
            "problem",
            Varchar,
            {"length": 32, "default": "", "null": False, "primary_key": False, "index": False},
        ),
        ("details", Text, {"default": "", "null": False, "primary_key": False, "index": False}),
        (
            "contact",
            Varchar,
            {"length": 200, "default": "", "null": False, "primary_key": False, "index": False},
        ),
        ("photo", Bytea, {"default": None, "null": True, "primary_key": False, "index": False}),
        ("photo_type", Varchar, _optional_varchar(16)),
        (
            "status",
            Varchar,
            {"length": 8, "default": "new", "null": False, "primary_key": False, "index": False},
        ),
    ),
    ("ScanCount", "scan_count"): (
        ("id", Serial, {"null": False, "primary_key": True, "index": False}),
        (
            "number",
            Varchar,
            {"length": 40, "default": "", "null": False, "primary_key": False, "index": False},
        ),
        ("day", Date, {"default": DateNow(), "null": False, "primary_key": False, "index": False}),
        (
            "scans",
            BigInt,
            {"default": 0, "null": False, "primary_key": False, "index": False},
            "count",
        ),
    ),
    ("CertificationBody", "certification_body"): (
        ("approval_no", Varchar, _optional_varchar(32)),
        ("website", Varchar, _optional_varchar(200)),
        ("phone", Varchar, _optional_varchar(40)),
    ),
}


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)
    for class_name, tablename in (
        ("ConsumerReport", "consumer_report"),
        ("ScanCount", "scan_count"),
    ):
        manager.add_table(class_name=class_name, tablename=tablename, schema=None, columns=None)
    for (class_name, tablename), columns in COLUMNS.items():
        for name, column_class, params, *db_name in columns:
            column = db_name[0] if db_name else name
            manager.add_column(
                table_class_name=class_name,
                tablename=tablename,
                column_name=name,
                db_column_name=column,
                column_class_name=column_class.__name__,
                column_class=column_class,
                params={**COMMON, **params, "db_column_name": column if db_name else None},
                schema=None,
            )

    return manager

"""The registry's one Piccolo app: its tables and migrations."""

from __future__ import annotations

from pathlib import Path

from piccolo.conf.apps import AppConfig, table_finder

APP_CONFIG = AppConfig(
    app_name="registry",
    migrations_folder_path=str(Path(__file__).parent / "migrations"),
    table_classes=table_finder(
        modules=[
            "registry.bodies.tables",
            "registry.certificates.tables",
            "registry.audit.tables",
            "registry.tender.tables",
            "registry.log.tables",
            "registry.console.tables",
            "registry.imports.tables",
            "registry.feedback.tables",
        ],
        exclude_imported=True,
    ),
    migration_dependencies=[],
    commands=[],
)

"""`starmark backup DEST` and `starmark restore SRC` (PRODUCT §4)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

from registry import backups
from registry.cli.context import fail, now
from registry.db import DatabaseUrlError
from registry.errors import RegistryError
from registry.settings import Settings

T = TypeVar("T")


def _run(work: Callable[[], T]) -> T:
    try:
        return work()
    except RegistryError as e:
        fail(e.detail)
    except DatabaseUrlError as e:
        fail(str(e), code=2)
    except OSError as e:
        fail(str(e))


@click.command()
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
def backup(dest: Path) -> None:
    """Write a consistent snapshot of the database into the new directory DEST.

    Safe while the registry runs. DEST gets the database (SQLite file or
    PostgreSQL custom-format dump) and manifest.json: SHA-256 sums, row counts
    and the latest log checkpoint.
    """
    url = Settings.from_env().database.url
    report = _run(lambda: backups.write_backup(url, dest, now=now()))
    counts = report.manifest["row_counts"]
    click.echo(
        f"backed up {counts.get('certificate', 0)} certificate(s) "
        f"({report.manifest['engine']}) into {report.path}"
    )


@click.command()
@click.argument("src", type=click.Path(exists=True, file_okay=False, path_type=Path))
def restore(src: Path) -> None:
    """Restore the backup in SRC into the empty database DATABASE_URL names.

    Every sum is checked before anything is written; then every certificate is
    verified. Exit 0 only when every certificate verifies.
    """
    url = Settings.from_env().database.url
    report = _run(lambda: backups.restore_backup(src, url, now=now()))
    for line in report.unverified:
        click.echo(f"does not verify: {line}", err=True)
    summary = (
        f"restored {report.certificates} certificate(s) from the backup of "
        f"{report.manifest['created_at']}"
    )
    if report.unverified:
        fail(f"{summary}, but {len(report.unverified)} do not verify")
    click.echo(f"{summary}; every certificate verifies")

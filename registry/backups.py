"""Backups and restores (`starmark backup DEST`, `starmark restore SRC`), PRODUCT §4.

A backup is a new directory holding one consistent snapshot of the database,
taken while the registry runs, and a manifest:

* SQLite: the online backup API (`sqlite3.Connection.backup`) copies the file
  in one step, inside one read transaction; in WAL mode writers go on.
* PostgreSQL: the server's `pg_dump` in custom format, reading the snapshot
  that a REPEATABLE READ transaction exports, so that the row counts and the
  checkpoint in the manifest are those of the dump.

`manifest.json` names each file with its SHA-256 sum and size, the row count
of each table and the latest transparency-log checkpoint (null when the
registry keeps no log); `manifest.json.sha256` holds the manifest's own sum
(`sha256sum -c` reads it), so a change to any byte of a backup is found.

A restore checks every sum before it writes anything, restores only into an
empty database, compares the row counts with the manifest and then judges
every certificate on the read path (`registry.verification`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import shutil
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from registry import db
from registry.errors import ConflictError, InvalidInputError, RegistryError
from registry.log.audit import audit_log
from registry.piccolo_app import APP_CONFIG
from registry.verification.services import VerificationService
from signing.checkpoint import open_checkpoint
from signing.errors import SigningError
from signing.instants import format_instant
from signing.keys import PublicKey
from signing.note import NoteVerifier

FORMAT: Final = "starmark-backup"
FORMAT_VERSION: Final = 1
MANIFEST: Final = "manifest.json"
MANIFEST_SUM: Final = "manifest.json.sha256"
SQLITE_FILE: Final = "starmark.sqlite3"
POSTGRES_FILE: Final = "starmark.pgdump"
#: The transparency log's checkpoints (registry/log), when the registry keeps a log.
CHECKPOINT_TABLE: Final = "log_checkpoint"
#: What makes a database not empty for a restore: the registry's content. `db
#: migrate` alone fills others (the registry's own key and its audit entry),
#: which the backup's replace.
CONTENT_TABLES: Final = (
    "certification_body",
    "certificate",
    "certificate_revision",
    "status_event",
)
#: Certificates judged per query after a restore.
VERIFY_BATCH: Final = 500


class BackupError(RegistryError):
    """A backup or restore that cannot go on; nothing was written."""


@dataclass(frozen=True)
class BackupReport:
    path: Path
    manifest: dict[str, Any]


@dataclass(frozen=True)
class RestoreReport:
    manifest: dict[str, Any]
    certificates: int
    #: "NUMBER: verdict status" for each certificate that does not verify.
    unverified: list[str]


def table_names() -> list[str]:
    """The registry's tables, in the order Piccolo lists them."""
    return [table._meta.tablename for table in APP_CONFIG.table_classes]


def engine_name(url: str) -> str:
    return "sqlite" if url.startswith("sqlite:") else "postgresql"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


# ----------------------------------------------------------------------------- backup


def write_backup(url: str, dest: Path, *, now: datetime) -> BackupReport:
    """Snapshot the database at `url` into the new directory `dest`.

    Raises:
        ConflictError: `dest` exists and is not an empty directory.
        BackupError: the database cannot be read or `pg_dump` failed.
    """
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise ConflictError(f"{dest} exists and is not empty: back up into a new directory")
    created = not dest.exists()
    dest.mkdir(parents=True, exist_ok=True)
    try:
        if engine_name(url) == "sqlite":
            name = SQLITE_FILE
            counts, checkpoint = _backup_sqlite(db.sqlite_path_from_url(url), dest / name)
        else:
            name = POSTGRES_FILE
            counts, checkpoint = asyncio.run(_backup_postgres(url, dest / name))
        manifest = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "engine": engine_name(url),
            "created_at": format_instant(now),
            "files": [
                {
                    "name": name,
                    "sha256": sha256_file(dest / name),
                    "size": (dest / name).stat().st_size,
                }
            ],
            "row_counts": counts,
            "checkpoint": checkpoint,
        }
        text = json.dumps(manifest, ensure_ascii=False, indent=2) + "\n"
        (dest / MANIFEST).write_text(text, encoding="utf-8")
        digest = hashlib.sha256(text.encode()).hexdigest()
        (dest / MANIFEST_SUM).write_text(f"{digest}  {MANIFEST}\n", encoding="utf-8")
    except BaseException:
        # A half-written backup must not look like one.
        for path in dest.iterdir():
            path.unlink()
        if created:
            dest.rmdir()
        raise
    return BackupReport(path=dest, manifest=manifest)


@contextlib.contextmanager
def _sqlite(target: str | Path, *, read_only: bool = False) -> Iterator[sqlite3.Connection]:
    if read_only:
        conn = sqlite3.connect(Path(target).resolve().as_uri() + "?mode=ro", uri=True)
    else:
        conn = sqlite3.connect(target)
    try:
        yield conn
    finally:
        conn.close()


def _sqlite_tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _sqlite_counts(conn: sqlite3.Connection) -> dict[str, int]:
    present = _sqlite_tables(conn)
    return {
        name: int(conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0])  # noqa: S608
        for name in table_names()
        if name in present
    }


def _backup_sqlite(source: Path, target: Path) -> tuple[dict[str, int], str | None]:
    if not source.is_file():
        raise BackupError(f"there is no SQLite database at {source}")
    try:
        with _sqlite(source, read_only=True) as src, _sqlite(target) as dst:
            # pages=-1: the whole file in one step, so one read transaction (a
            # consistent snapshot) while WAL lets writers go on meanwhile.
            src.backup(dst, pages=-1)
            # A self-contained file: no -wal beside it to copy or lose.
            dst.execute("PRAGMA journal_mode=DELETE")
            counts = _sqlite_counts(dst)
            checkpoint = None
            if CHECKPOINT_TABLE in _sqlite_tables(dst):
                row = dst.execute(
                    f"SELECT text FROM {CHECKPOINT_TABLE} ORDER BY size DESC LIMIT 1"  # noqa: S608
                ).fetchone()
                checkpoint = None if row is None else str(row[0])
    except sqlite3.Error as e:
        raise BackupError(f"cannot back up {source}: {e}") from e
    return counts, checkpoint


def _pg_tool(name: str, server_version_num: int) -> str:
    """The client tool matching the server's major version (Debian's layout), or PATH's."""
    own = Path(f"/usr/lib/postgresql/{server_version_num // 10000}/bin/{name}")
    if own.is_file():
        return str(own)
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed (apt-get install postgresql-client)")
    return found


async def _run_tool(command: Sequence[str]) -> None:
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    _, stderr = await process.communicate()
    if process.returncode != 0:
        tool = Path(command[0]).name
        raise BackupError(f"{tool} failed: {stderr.decode(errors='replace').strip()[-2000:]}")


async def _pg_connect(url: str) -> Any:
    import asyncpg

    try:
        return await asyncpg.connect(url)
    except (OSError, asyncpg.PostgresError) as e:
        raise BackupError(f"cannot connect to the database: {e}") from e


async def _pg_counts(conn: Any) -> dict[str, int]:
    counts = {}
    for name in table_names():
        if await conn.fetchval("SELECT to_regclass($1)", name) is not None:
            counts[name] = int(await conn.fetchval(f'SELECT count(*) FROM "{name}"'))  # noqa: S608
    return counts


async def _backup_postgres(url: str, target: Path) -> tuple[dict[str, int], str | None]:
    conn = await _pg_connect(url)
    try:
        version = int(await conn.fetchval("SHOW server_version_num"))
        pg_dump = _pg_tool("pg_dump", version)
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            # pg_dump reads the snapshot this transaction exported: the dump,
            # the counts and the checkpoint are one moment of the database.
            snapshot = await conn.fetchval("SELECT pg_export_snapshot()")
            counts = await _pg_counts(conn)
            checkpoint = None
            if await conn.fetchval("SELECT to_regclass($1)", CHECKPOINT_TABLE) is not None:
                checkpoint = await conn.fetchval(
                    f"SELECT text FROM {CHECKPOINT_TABLE} ORDER BY size DESC LIMIT 1"  # noqa: S608
                )
            await _run_tool(
                [
                    pg_dump,
                    "--format=custom",
                    f"--snapshot={snapshot}",
                    f"--file={target}",
                    f"--dbname={url}",
                ]
            )
    finally:
        await conn.close()
    return counts, None if checkpoint is None else str(checkpoint)


# ----------------------------------------------------------------------------- restore


def read_manifest(src: Path) -> dict[str, Any]:
    """The manifest of the backup in `src`, once every sum and size is checked.

    Raises:
        InvalidInputError: a file is missing, damaged or not of this format.
    """

    def refuse(reason: str) -> InvalidInputError:
        return InvalidInputError(f"{src} is not a usable backup: {reason}; nothing was restored")

    try:
        text = (src / MANIFEST).read_bytes()
        recorded = (src / MANIFEST_SUM).read_text(encoding="ascii").split()
    except (OSError, UnicodeDecodeError) as e:
        raise refuse(f"cannot read its manifest ({e})") from e
    if not recorded or recorded[0] != hashlib.sha256(text).hexdigest():
        raise refuse(f"{MANIFEST} does not match {MANIFEST_SUM}")
    try:
        manifest = json.loads(text)
        if manifest["format"] != FORMAT or manifest["version"] != FORMAT_VERSION:
            raise refuse(f"format {manifest['format']} {manifest['version']} is not known")
        files = [(f["name"], f["sha256"], int(f["size"])) for f in manifest["files"]]
        manifest["row_counts"]["certificate"]
    except (ValueError, KeyError, TypeError) as e:
        raise refuse(f"its manifest does not read ({e!r})") from e
    for name, digest, size in files:
        path = src / name
        if Path(name).name != name or not path.is_file():
            raise refuse(f"{name} is missing")
        if path.stat().st_size != size:
            raise refuse(f"{name} has {path.stat().st_size} bytes, the manifest says {size}")
        if sha256_file(path) != digest:
            raise refuse(f"{name} is damaged (its SHA-256 sum differs from the manifest's)")
    result: dict[str, Any] = manifest
    return result


def _not_empty(counts: dict[str, int]) -> str | None:
    filled = [f"{name} ({counts[name]} rows)" for name in CONTENT_TABLES if counts.get(name)]
    if not filled:
        return None
    return (
        "the database is not empty: "
        + ", ".join(filled)
        + "; restore only into a new or empty database"
    )


def restore_backup(src: Path, url: str, *, now: datetime) -> RestoreReport:
    """Check the backup in `src`, restore it into the empty database at `url`, verify it.

    Raises:
        InvalidInputError: the backup is damaged, incomplete, or of another engine.
        ConflictError: the target database holds rows.
        BackupError: the restore itself failed.
    """
    manifest = read_manifest(src)
    if manifest["engine"] != engine_name(url):
        raise InvalidInputError(
            f"this backup is of a {manifest['engine']} database, "
            f"DATABASE_URL names {engine_name(url)}; nothing was restored"
        )
    name = manifest["files"][0]["name"]
    if engine_name(url) == "sqlite":
        _restore_sqlite(src / name, db.sqlite_path_from_url(url))
    else:
        asyncio.run(_restore_postgres(src / name, url))
    return asyncio.run(_check_restored(url, manifest, now=now))


def _restore_sqlite(backup: Path, target: Path) -> None:
    if target.exists() and target.stat().st_size > 0:
        try:
            with _sqlite(target, read_only=True) as conn:
                problem = _not_empty(_sqlite_counts(conn))
        except sqlite3.Error as e:
            raise ConflictError(f"{target} is not an empty SQLite database: {e}") from e
        if problem:
            raise ConflictError(problem)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        # The backup API writes the target in one transaction: all or nothing.
        with _sqlite(backup, read_only=True) as src, _sqlite(target) as dst:
            src.backup(dst, pages=-1)
    except sqlite3.Error as e:
        raise BackupError(f"cannot restore into {target}: {e}") from e


async def _restore_postgres(backup: Path, url: str) -> None:
    conn = await _pg_connect(url)
    try:
        version = int(await conn.fetchval("SHOW server_version_num"))
        counts = await _pg_counts(conn)
        migrated = await conn.fetchval("SELECT to_regclass('migration')") is not None
    finally:
        await conn.close()
    problem = _not_empty(counts)
    if problem:
        raise ConflictError(problem)
    command = [
        _pg_tool("pg_restore", version),
        "--single-transaction",
        "--exit-on-error",
        "--no-owner",
        "--no-privileges",
        f"--dbname={url}",
    ]
    if counts or migrated:
        # Empty tables after `db migrate`: replaced by the backup's, in the same transaction.
        command += ["--clean", "--if-exists"]
    await _run_tool([*command, str(backup)])


async def _check_restored(url: str, manifest: dict[str, Any], *, now: datetime) -> RestoreReport:
    """Counts as the manifest says, then every certificate judged on the read path."""
    engine = db.engine_from_url(url)
    await db.start(engine)
    service = VerificationService.for_engine(engine)
    try:
        counts = {}
        for name in manifest["row_counts"]:
            rows = await engine.run_ddl(f'SELECT count(*) AS n FROM "{name}"')  # noqa: S608
            counts[name] = int(rows[0]["n"])
        if counts != manifest["row_counts"]:
            raise BackupError(
                f"the restored database holds {counts}, the manifest says "
                f"{manifest['row_counts']}: do not use it"
            )
        rows = await engine.run_ddl("SELECT number FROM certificate ORDER BY number")
        numbers = [str(r["number"]) for r in rows]
        unverified = []
        for start in range(0, len(numbers), VERIFY_BATCH):
            chunk = numbers[start : start + VERIFY_BATCH]
            for reading in await service.readings(numbers=chunk, at=now, now=now):
                if not reading.trusted:
                    unverified.append(f"{reading.number}: {reading.verdict.status.value}")
        # Then the transparency log, recomputed and held against its checkpoints
        # and the tables (`starmark log verify`).
        db.use_engine(engine)
        report = await audit_log(verifier=await _log_verifier(engine))
        unverified += [f"transparency log: {p}" for p in report.problems]
    finally:
        service.close()
        await db.stop(engine)
    return RestoreReport(manifest=manifest, certificates=len(numbers), unverified=unverified)


async def _log_verifier(engine: Any) -> NoteVerifier | None:
    """The restored log's checkpoint verifier: its origin (the latest checkpoint's
    first line) and whichever of the registry's own keys signed it; None when no
    checkpoint was signed. When none did, the first key is returned, and the
    audit reports every checkpoint as not verifying."""
    rows = await engine.run_ddl("SELECT text FROM log_checkpoint ORDER BY size DESC LIMIT 1")
    if not rows:
        return None
    note = str(rows[0]["text"])
    origin = note.split("\n", 1)[0]
    keys = await engine.run_ddl("SELECT public_jwk FROM signing_key WHERE body IS NULL ORDER BY id")
    verifiers = [
        NoteVerifier.for_key(origin, PublicKey.from_jwk(json.loads(k["public_jwk"]))) for k in keys
    ]
    for verifier in verifiers:
        try:
            open_checkpoint(note, verifier=verifier)
        except SigningError:
            continue
        return verifier
    return verifiers[0] if verifiers else None

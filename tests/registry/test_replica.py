"""DATABASE_REPLICA_URL against a real streaming replica (PRODUCT §6, issue 11).

The test makes a hot standby of the suite's PostgreSQL server on another
port (`pg_createcluster` for its configuration, `pg_basebackup -R` for its
data), points the app's public reads at it, and pauses its replay: what the
primary has and the replica has not yet shown tells which one answered.
On SQLite there is no replica: it does not apply.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from litestar.testing import TestClient
from piccolo.engine.base import Engine

from registry.app import create_app
from registry.settings import DatabaseSettings, Settings
from tests.conftest import missing_dependency
from tests.factories import certificate_fields, free_port, make_body

pytestmark = [pytest.mark.postgres_only, pytest.mark.timeout(90)]

PRIMARY = ("127.0.0.1", "5432")
TOOLS = ("pg_createcluster", "pg_ctlcluster", "pg_dropcluster", "pg_basebackup", "psql", "runuser")
#: pg_basebackup -R connects as postgres over TCP; the primary must let it (trust, as the suite's).
REPLICATION_HBA = "host replication postgres 127.0.0.1/32 trust"


def _run(*command: str, timeout: float = 30) -> str:
    """Run a command (from /, where the postgres user may stand); its output, or a failure
    that says what it printed."""
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, cwd="/", check=False
    )
    if result.returncode != 0:
        pytest.fail(f"{' '.join(command)}: exit {result.returncode}\n{result.stderr}")
    return result.stdout.strip()


def _psql(port: str, sql: str, *, database: str = "postgres") -> str:
    return _run("psql", "-h", PRIMARY[0], "-p", port, "-U", "postgres", "-d", database, "-Atc", sql)


def allow_replication_connections() -> None:
    """Add the replication line to the primary's pg_hba.conf if it lacks it, and reload.

    The same step as .ci/run's; a reload (not a restart) leaves other sessions be.
    """
    hba = Path(_psql(PRIMARY[1], "SHOW hba_file"))
    if REPLICATION_HBA not in hba.read_text().splitlines():
        with hba.open("a") as f:
            f.write(f"\n# Starmark tests: streaming replicas on loopback\n{REPLICATION_HBA}\n")
        _psql(PRIMARY[1], "SELECT pg_reload_conf()")


@pytest.fixture
def replica_port(database_url: str) -> Iterator[str]:
    """A hot standby of the primary on a free port, dropped at the end."""
    if not database_url.startswith(("postgresql:", "postgres:")):
        pytest.skip("a streaming replica is a PostgreSQL matter: does not apply on SQLite")
    for tool in TOOLS:
        if shutil.which(tool) is None:
            missing_dependency(f"{tool} is not installed (postgresql, postgresql-client)")
    allow_replication_connections()
    version = _psql(PRIMARY[1], "SHOW server_version_num")[:-4]
    name = f"starmark_replica_{os.getpid()}"
    port = str(free_port())
    _run("pg_createcluster", version, name, "-p", port)
    try:
        config = Path(f"/etc/postgresql/{version}/{name}")
        (config / "pg_hba.conf").write_text(
            "local all all trust\nhost all all 127.0.0.1/32 trust\n"
        )
        data = Path(f"/var/lib/postgresql/{version}/{name}")
        # pg_basebackup fills an empty directory; the cluster's own (postgres's, 0700) stays.
        for entry in data.iterdir():
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
        # -R writes standby.signal and primary_conninfo; a fast checkpoint starts at once.
        _run(
            *("runuser", "-u", "postgres", "--", "pg_basebackup", "-h", PRIMARY[0]),
            *("-p", PRIMARY[1], "-U", "postgres", "-D", str(data), "-R", "-X", "stream"),
            "--checkpoint=fast",
            timeout=60,
        )
        _run("pg_ctlcluster", "--skip-systemctl-redirect", version, name, "start")
        assert _psql(port, "SELECT pg_is_in_recovery()") == "t"
        yield port
    finally:
        subprocess.run(
            ["pg_dropcluster", "--stop", version, name],
            capture_output=True,
            timeout=60,
            check=False,
        )


def _on_port(url: str, port: str) -> str:
    parts = urlsplit(url)
    user = parts.username or "postgres"
    return urlunsplit(parts._replace(netloc=f"{user}@{PRIMARY[0]}:{port}"))


def _eventually(check: Callable[[], bool], *, within: float) -> float:
    """Seconds until `check()` held; fails after `within`."""
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > within:
            pytest.fail(f"not seen through the replica within {within:g} s")
        time.sleep(0.1)
    return time.monotonic() - start


def test_public_reads_come_from_the_replica_and_writes_from_the_primary(
    clean_db: Engine[Any], settings: Settings, database_url: str, replica_port: str
) -> None:
    database = urlsplit(database_url).path.lstrip("/")
    with_replica = dataclasses.replace(
        settings,
        database=DatabaseSettings(
            url=database_url, replica_url=_on_port(database_url, replica_port)
        ),
        verify_max_age_seconds=5,
    )
    body = make_body(settings)
    app = create_app(with_replica, engine=clean_db)
    with TestClient(app=app, raise_server_exceptions=False) as client:

        def public_status(number: str) -> str:
            answer = client.get(f"/api/v1/certificates/{number}/verification").json()
            return str(answer["status"])

        def found_by_search(number: str) -> bool:
            items = client.get("/api/v1/certificates", params={"q": number}).json()["items"]
            return [i["number"] for i in items] == [number]

        created = client.post(
            "/api/v1/certificates",
            json=certificate_fields("SMT-REPL-0001", score=91),
            headers=body.auth,
        )
        assert created.status_code == 201
        _eventually(lambda: public_status("SMT-REPL-0001") == "valid", within=10)

        # Replay paused: the replica keeps what it had, the primary moves on.
        _psql(replica_port, "SELECT pg_wal_replay_pause()", database=database)
        try:
            revoked = client.post(
                "/api/v1/certificates/SMT-REPL-0001/events",
                json={"status": "revoked", "reason": "withdrawn by the body"},
                headers=body.auth,
            )
            # The write went to the primary (a standby refuses writes) and answers from it.
            assert revoked.status_code == 201, revoked.text
            assert revoked.json()["events"][-1]["status"] == "revoked"
            created = client.post(
                "/api/v1/certificates",
                json=certificate_fields("SMT-REPL-0002", score=92),
                headers=body.auth,
            )
            assert created.status_code == 201
            assert created.json()["number"] == "SMT-REPL-0002"

            # Every public read still sees the replica's past.
            assert public_status("SMT-REPL-0001") == "valid"
            document = client.get("/api/v1/certificates/SMT-REPL-0001").json()
            assert document["events"] == []  # the revocation is not there yet
            page = client.get("/v/SMT-REPL-0001?lang=en")
            assert 'data-status="valid"' in page.text
            assert public_status("SMT-REPL-0002") == "not_found"
            assert client.get("/v/SMT-REPL-0002").status_code == 404
            assert not found_by_search("SMT-REPL-0002")
            # Bulk checks read the replica; their signed receipt is a write (the primary).
            bulk = client.post(
                "/api/v1/verifications", json={"items": ["SMT-REPL-0001", "SMT-REPL-0002"]}
            )
            assert bulk.status_code == 200, bulk.text
            statuses = [[v["status"] for v in r["verdicts"]] for r in bulk.json()["results"]]
            assert statuses == [["valid"], ["not_found"]]
        finally:
            _psql(replica_port, "SELECT pg_wal_replay_resume()", database=database)

        # Streaming catches up well within the cache lifetime the answers announce.
        max_age = with_replica.verify_max_age_seconds
        seen = _eventually(lambda: public_status("SMT-REPL-0001") == "revoked", within=max_age)
        assert seen < max_age
        assert f"max-age={max_age}" in client.get("/v/SMT-REPL-0001").headers["cache-control"]
        _eventually(lambda: found_by_search("SMT-REPL-0002"), within=max_age)

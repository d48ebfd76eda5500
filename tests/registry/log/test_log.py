"""The transparency log end to end (issue 10): appends, checkpoints, proofs, tampering.

Proofs and checkpoints served by the registry are checked with code that
shares nothing with `signing.merkle` or `signing.note`: the RFC 6962 text
transcribed (`tests/signing/rfc6962_reference.py`) and the C2SP signed-note
signature checked with pyca's raw Ed25519.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from litestar.testing import TestClient
from piccolo.querystring import QueryString

from registry.certificates.tables import Certificate
from registry.cli import main
from signing.jws import CompactJWS
from tests.conftest import run
from tests.factories import BodyFixture, certificate_fields, make_operator_token
from tests.registry.cli.test_registry_cli import starmark
from tests.registry.verification.conftest import add_event, issue, today
from tests.signing import rfc6962_reference as rfc


def sql(statement: str, *values: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = run(
        Certificate._meta.db.run_querystring(QueryString(statement, *values))
    )
    return rows


def b64d(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def all_entries(client: TestClient[Any]) -> list[dict[str, Any]]:
    size = int(client.get("/log/checkpoint").text.splitlines()[1])
    entries: list[dict[str, Any]] = []
    for start in range(0, size, 1000):
        page = client.get(
            "/api/v1/log/entries", params={"start": start, "end": min(size, start + 1000)}
        )
        assert page.status_code == 200, page.text
        entries += page.json()["entries"]
    return entries


def check_note_independently(note: str, vkey: str) -> tuple[str, int, bytes]:
    """C2SP signed-note and tlog-checkpoint, checked by hand with pyca (no signing.note)."""
    name, key_id_hex, key_b64 = vkey.strip().split("+", 2)
    key_material = base64.b64decode(key_b64)
    assert key_material[0] == 0x01  # Ed25519
    expected_id = hashlib.sha256(name.encode() + b"\n" + key_material).digest()[:4]
    assert expected_id.hex() == key_id_hex
    text, _, signatures = note.partition("\n\n")
    body = text + "\n"
    (line,) = [s for s in signatures.splitlines() if s]
    dash, signer, blob = line.split(" ")
    assert dash == "\u2014" and signer == name
    raw = base64.b64decode(blob)
    assert raw[:4] == expected_id
    Ed25519PublicKey.from_public_bytes(key_material[1:]).verify(raw[4:], body.encode())
    origin, size, root = text.split("\n")[:3]
    return origin, int(size), base64.b64decode(root)


@pytest.fixture
def logged(client: TestClient[Any], body: BodyFixture) -> TestClient[Any]:
    start = today() - timedelta(days=90)
    for n in range(5):
        issue(client, body, f"SMT-LOG-000{n}", score=90 + n, start=start)
    add_event(client, body, "SMT-LOG-0003", "revoked", reason="伪造记录")
    return client


def test_every_document_is_a_leaf_and_the_checkpoint_proofs_hold_by_the_rfc_text(
    logged: TestClient[Any],
) -> None:
    client = logged
    vkey = client.get("/log/key").text
    origin, size, root = check_note_independently(client.get("/log/checkpoint").text, vkey)
    entries = all_entries(client)
    assert [e["index"] for e in entries] == list(range(size))
    typs = [e["typ"] for e in entries]
    # The body's key statement, five revisions and one status event.
    assert typs.count("starmark-key+jws") == 1
    assert typs.count("starmark-cert+jws") == 5
    assert typs.count("starmark-status+jws") == 1
    leaves = [e["jws"].encode("ascii") for e in entries]
    assert rfc.mth(leaves) == root
    for index in range(size):
        proof = client.get("/api/v1/log/proofs/inclusion", params={"index": index, "size": size})
        assert proof.status_code == 200, proof.text
        answer = proof.json()
        assert [b64d(h) for h in answer["proof"]] == rfc.path(index, leaves)
        assert b64d(answer["leaf_hash"]) == rfc.mth([leaves[index]])
    for old in range(1, size + 1):
        answer = client.get("/api/v1/log/proofs/consistency", params={"from": old, "to": size})
        assert [b64d(h) for h in answer.json()["proof"]] == rfc.proof(old, leaves)
    # Every revision and event of a certificate names its leaf.
    document = client.get("/api/v1/certificates/SMT-LOG-0003").json()
    for item in [*document["revisions"], *document["events"]]:
        assert entries[item["log_index"]]["jws"] == item["jws"]
    assert origin.endswith("/log")


def test_a_receipt_names_the_checkpoint_its_verdicts_were_read_from(
    logged: TestClient[Any],
) -> None:
    client = logged
    answer = client.post("/api/v1/verifications", json={"items": ["SMT-LOG-0001"]}).json()
    payload = json.loads(CompactJWS.parse(answer["receipt"]).payload_bytes)
    origin, size, root = check_note_independently(
        client.get("/log/checkpoint").text, client.get("/log/key").text
    )
    assert payload["log"] == {
        "origin": origin,
        "size": size,
        "root": base64.b64encode(root).decode(),
    }


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"index": "0", "size": "999"}, "size"),
        ({"index": "-1", "size": "1"}, "index"),
        ({"index": "99999999999999999999", "size": "1"}, "index"),
        ({"index": "7", "size": "7"}, "index"),
        ({"index": "x", "size": "1"}, "index"),
        ({"index": "¹", "size": "7"}, "index"),  # a digit to str.isdigit, not to int
    ],
)
def test_bad_inclusion_requests_are_4xx(
    logged: TestClient[Any], params: dict[str, str], field: str
) -> None:
    assert logged.get("/log/checkpoint").text.splitlines()[1] == "7"
    answer = logged.get("/api/v1/log/proofs/inclusion", params=params)
    assert 400 <= answer.status_code < 500
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert field in {e["field"] for e in answer.json()["errors"]}


@pytest.mark.parametrize(
    "params",
    [{"from": "5", "to": "3"}, {"from": "0", "to": "3"}, {"from": "1", "to": "999"}, {"from": "1"}],
)
def test_bad_consistency_requests_are_4xx(logged: TestClient[Any], params: dict[str, str]) -> None:
    answer = logged.get("/api/v1/log/proofs/consistency", params=params)
    assert 400 <= answer.status_code < 500, answer.text


def test_concurrent_writers_get_consecutive_leaves(
    client: TestClient[Any], body: BodyFixture
) -> None:
    """Threads issuing at once: indexes 0..n-1 with no gap and no duplicate."""
    errors: list[str] = []

    def work(n: int) -> None:
        for k in range(4):
            response = client.post(
                "/api/v1/certificates",
                json=certificate_fields(f"SMT-RACE-{n}{k:03d}"),
                headers=body.auth,
            )
            if response.status_code != 201:
                errors.append(response.text)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    ids = [int(r["id"]) for r in sql("SELECT id FROM log_entry ORDER BY id")]
    assert ids == list(range(len(ids)))
    revisions = sql("SELECT log_index FROM certificate_revision ORDER BY log_index")
    assert len({r["log_index"] for r in revisions}) == 16


def test_log_verify_is_clean_then_catches_a_deleted_event_row(
    logged: TestClient[Any], cli_env: dict[str, str]
) -> None:
    clean = starmark(cli_env, "log", "verify")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "consistent" in clean.stdout
    sql(
        "DELETE FROM status_event WHERE certificate = "
        "(SELECT id FROM certificate WHERE number = {})",
        "SMT-LOG-0003",
    )
    broken = starmark(cli_env, "log", "verify")
    assert broken.returncode == 1
    assert "missing from the tables" in broken.stdout
    # The answers still show the revocation: they are read from the log.
    verdict = logged.get("/api/v1/certificates/SMT-LOG-0003/verification").json()
    assert verdict["status"] == "revoked"


def test_a_monitor_holding_an_earlier_checkpoint_catches_a_rewritten_history(
    logged: TestClient[Any],
    body: BodyFixture,
    live_server: str,
    cli_env: dict[str, str],
    tmp_path: Path,
) -> None:
    state = tmp_path / "monitor"
    first = starmark(cli_env, "log", "monitor", "--registry", live_server, "--state", str(state))
    assert first.returncode == 0, first.stdout + first.stderr
    # The intruder deletes the revocation, its leaf and every trace of the tree...
    sql("DELETE FROM status_event")
    sql("DELETE FROM log_entry WHERE typ = {}", "starmark-status+jws")
    sql("DELETE FROM log_node")
    sql("DELETE FROM log_checkpoint")
    sql("UPDATE certificate SET status = 'valid', event_count = 0 WHERE number = 'SMT-LOG-0003'")
    rows = sql("SELECT typ, jws FROM log_entry ORDER BY id")
    # ...and rebuilds a tree without it, as a database user can.
    run(_rebuild_tree([(str(r["typ"]), str(r["jws"])) for r in rows]))
    # The log grows again (a new certificate), and the registry signs a new checkpoint.
    issue(logged, body, "SMT-LOG-0009", score=95, start=today() - timedelta(days=3))
    second = starmark(cli_env, "log", "monitor", "--registry", live_server, "--state", str(state))
    assert second.returncode == 1, second.stdout + second.stderr
    assert second.stdout.startswith("LOG NOT CONSISTENT")
    assert any(w in second.stdout for w in ("rewritten", "shrank", "different roots"))


async def _rebuild_tree(entries: list[tuple[str, str]]) -> None:
    from registry.log.store import node_id
    from registry.log.tables import LogEntry, LogNode
    from signing.merkle import MemoryHashSource, leaf_hash

    await LogEntry.delete(force=True)
    source = MemoryHashSource()
    nodes = source.append([leaf_hash(jws.encode("ascii")) for _, jws in entries])
    for new_index, (typ, jws) in enumerate(entries):
        await LogEntry.raw(
            "INSERT INTO log_entry (id, typ, jws, recorded_at, number, body) "
            "VALUES ({}, {}, {}, CURRENT_TIMESTAMP, NULL, 'X')",
            new_index,
            typ,
            jws,
        )
    await LogNode.insert(*(LogNode(id=node_id(n), hash=h) for n, h in nodes.items()))


def test_a_database_from_before_the_log_upgrades_in_place_with_db_migrate(
    logged: TestClient[Any], cli_env: dict[str, str]
) -> None:
    """Documents without leaves (the first release) are logged in recorded order."""
    before = logged.get("/api/v1/certificates/SMT-LOG-0003").json()
    sql("DELETE FROM log_checkpoint")
    sql("DELETE FROM log_node")
    sql("DELETE FROM log_entry")
    sql("UPDATE certificate_revision SET log_index = NULL")
    sql("UPDATE status_event SET log_index = NULL")
    migrated = starmark(cli_env, "db", "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert "7 documents added to the transparency log" in migrated.stdout
    verified = starmark(cli_env, "log", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    after = logged.get("/api/v1/certificates/SMT-LOG-0003").json()
    assert after["status"] == before["status"] == "revoked"
    assert [e["jws"] for e in after["events"]] == [e["jws"] for e in before["events"]]
    # Revisions first in the order recorded, then the event; the key statement last.
    typs = [e["typ"] for e in all_entries(logged)]
    assert typs == ["starmark-cert+jws"] * 5 + ["starmark-status+jws", "starmark-key+jws"]
    again = starmark(cli_env, "db", "migrate")
    assert "added" not in again.stdout


def verify_bundle(client: TestClient[Any], index: int, folder: Path) -> Any:
    """`starmark verify BUNDLE --jwks J --log-key K`, offline, with what the registry serves."""
    files = {
        "bundle.json": client.get("/api/v1/log/bundle", params={"index": index}).text,
        "jwks.json": client.get("/.well-known/jwks.json").text,
        "log.key": client.get("/log/key").text,
    }
    for name, text in files.items():
        (folder / name).write_text(text)
    return verify_offline(folder)


def verify_offline(folder: Path) -> Any:
    return CliRunner().invoke(
        main,
        [
            "verify",
            str(folder / "bundle.json"),
            "--jwks",
            str(folder / "jwks.json"),
            "--log-key",
            str(folder / "log.key"),
        ],
    )


def test_a_bundle_carries_the_key_compromise_the_key_table_no_longer_shows(
    client: TestClient[Any], body: BodyFixture, tmp_path: Path
) -> None:
    issue(client, body, "SMT-LOG-0100", score=92, start=today() - timedelta(days=90))
    before = client.get("/api/v1/certificates/SMT-LOG-0100").json()["revisions"][0]["log_index"]
    operator = {"Authorization": f"Bearer {make_operator_token()}"}
    response = client.post(f"/api/v1/keys/{body.kid}/compromise", json={}, headers=operator)
    assert response.status_code == 200, response.text
    # An intruder erases the compromise from the key table (and so from the JWKS).
    sql("UPDATE signing_key SET state = 'active', compromised_at = NULL WHERE kid = {}", body.kid)
    issue(client, body, "SMT-LOG-0101", score=92, start=today() - timedelta(days=90))
    after = client.get("/api/v1/certificates/SMT-LOG-0101").json()["revisions"][0]["log_index"]
    assert before < after
    assert client.get("/.well-known/jwks.json").json()["keys"][-1]["compromised_at"] is None

    later = verify_bundle(client, after, tmp_path)
    assert later.exit_code == 1, later.output
    assert "SIGNATURE INVALID" in later.output and "compromised" in later.output
    bundle = json.loads((tmp_path / "bundle.json").read_text())
    assert [s["index"] for s in bundle["key_statements"]] == [
        e["index"] for e in all_entries(client) if e["typ"] == "starmark-key+jws"
    ][-2:]
    # (The earlier certificate was signed in the second of the compromise, so it
    # does not count either; tests/signing/test_compromise_position.py holds
    # the positions apart.)

    # A bundle whose key statement was left out of the tree does not pass.
    statement = bundle["key_statements"][-1]
    statement["index"] = after
    (tmp_path / "bundle.json").write_text(json.dumps(bundle))
    swapped = verify_offline(tmp_path)
    assert swapped.exit_code == 1
    assert "NOT IN THE LOG" in swapped.output

"""`starmark verify receipt.jws --jwks JWKS.json`: a receipt checked offline, later, elsewhere.

PRODUCT §4: for a receipt the verdict is about the document alone (`valid`,
`signature_invalid` or `malformed`); exit 0 only when valid.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from registry.cli import main
from tests.registry.tender.conftest import FIVE_STAR, REVOKED, World
from tests.registry.tender.test_api import flip_one_byte

STARMARK = Path(sys.executable).parent / "starmark"


def save_receipt_and_keys(world: World, tmp_path: Path) -> tuple[Path, Path, str]:
    token = world.verify([FIVE_STAR, REVOKED, world.multi_uscc], as_of="2026-10-01").json()[
        "receipt"
    ]
    receipt = tmp_path / "receipt.jws"
    receipt.write_text(token + "\n")
    jwks = tmp_path / "jwks.json"
    jwks.write_text(world.client.get("/.well-known/jwks.json").text)
    return receipt, jwks, token


def verify(*args: Any) -> Any:
    return CliRunner().invoke(main, ["verify", *map(str, args)])


def test_a_receipt_checks_offline_with_the_published_keys(world: World, tmp_path: Path) -> None:
    receipt, jwks, _ = save_receipt_and_keys(world, tmp_path)
    result = verify(receipt, "--jwks", jwks, "--json")
    assert result.exit_code == 0, result.output
    verdict = json.loads(result.output)
    assert verdict["status"] == "valid"
    assert verdict["signature"]["issuer"] == "registry"
    assert "receipt of 3 result(s) as of 2026-09-30T16:00:00Z" in verdict["reason"]
    human = verify(receipt, "--jwks", jwks)
    assert human.exit_code == 0 and human.output.startswith("VALID")


def test_it_needs_no_database_and_no_network(world: World, tmp_path: Path) -> None:
    receipt, jwks, _ = save_receipt_and_keys(world, tmp_path)
    env = {
        **os.environ,
        "DATABASE_URL": "sqlite:////nonexistent/never-opened.sqlite3",
        "STARMARK_PUBLIC_URL": "http://192.0.2.1:9",  # TEST-NET-1: nothing answers there
    }
    done = subprocess.run(
        [str(STARMARK), "verify", str(receipt), "--jwks", str(jwks)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("VALID")


def test_a_changed_receipt_or_the_wrong_keys_exit_1(world: World, tmp_path: Path) -> None:
    receipt, jwks, token = save_receipt_and_keys(world, tmp_path)
    tampered = tmp_path / "tampered.jws"
    tampered.write_text(flip_one_byte(token))
    result = verify(tampered, "--jwks", jwks, "--json")
    assert result.exit_code == 1
    assert json.loads(result.output)["status"] == "signature_invalid"
    # Keys without the registry's: the receipt's key is unknown, so nothing vouches for it.
    bodies_only = tmp_path / "bodies.json"
    keys = json.loads(jwks.read_text())
    keys["keys"] = [k for k in keys["keys"] if k.get("body") != "registry"]
    bodies_only.write_text(json.dumps(keys))
    result = verify(receipt, "--jwks", bodies_only, "--json")
    assert result.exit_code == 1
    assert json.loads(result.output)["status"] == "signature_invalid"

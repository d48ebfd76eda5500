"""Schemathesis against the app's own /schema (issue 11, "Fuzzing in CI").

The real app on a loopback port, with the demo data and a body's token, so
that generated requests reach certificates that exist and writes that are
allowed. Every check of schemathesis is on (no 5xx, status codes, content
types and bodies as documented, `Allow` on 405), except where
tests/registry/schemathesis.toml says why. Bounded: about 20 examples an
operation and the examples, fuzzing and stateful phases, well under a
minute an engine here.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from piccolo.engine.base import Engine

from registry.app import create_app
from registry.bodies.services import HostedKeyVault
from registry.demo import seed_demo
from registry.settings import Settings
from tests.conftest import missing_dependency, run
from tests.factories import serve_in_thread

pytestmark = [pytest.mark.fuzz, pytest.mark.timeout(240)]

CONFIG = Path(__file__).with_name("schemathesis.toml")
#: The whole run, phases included (a guard: it takes about 30 s here).
RUN_SECONDS = 200


def test_the_api_answers_as_its_schema_says(
    clean_db: Engine[Any], settings: Settings, tmp_path: Path
) -> None:
    command = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    if command is None:
        missing_dependency("schemathesis is not installed (pip install -e '.[dev]')")
    seeded = run(seed_demo(vault=HostedKeyVault(settings.keys), now=datetime.now(UTC)))
    assert seeded.token is not None
    with serve_in_thread(create_app(settings, engine=clean_db)) as base_url:
        result = subprocess.run(
            [
                str(command),
                "--config-file",
                str(CONFIG),
                "run",
                f"{base_url}/schema/openapi.json",
                "--header",
                f"Authorization: Bearer {seeded.token.token}",
                "--no-color",
                "--report-dir",
                str(tmp_path),
            ],
            capture_output=True,
            text=True,
            timeout=RUN_SECONDS,
            check=False,
            # It keeps a cache in `.schemathesis/` where it runs: not in the repository.
            cwd=tmp_path,
        )
    # Its report, whole, is the failure message: each finding with a curl line to replay it.
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout and " failed" not in result.stdout

"""`signing` is a pure library: no web framework, ORM, environment, file system or clock."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import signing

SIGNING_DIR = Path(signing.__file__).parent

#: What `signing` may import at runtime: the standard library modules it
#: needs, cryptography and rfc8785. Nothing that reads files, the
#: environment or the clock.
ALLOWED_IMPORTS = {
    "__future__", "base64", "binascii", "calendar", "collections", "dataclasses",
    "datetime", "decimal", "enum", "hashlib", "json", "re", "types", "typing",
    "unicodedata", "cryptography", "rfc8785", "signing",
}  # fmt: skip
FORBIDDEN_CALLS = {"now", "utcnow", "today", "time", "open", "getenv", "read_text", "read_bytes"}


def test_importing_signing_loads_no_web_framework_or_orm() -> None:
    code = (
        "import json, sys, signing, signing.verdict, signing.merkle, signing.checkpoint;"
        "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    loaded = {name.split(".")[0] for name in json.loads(out)}
    assert "signing" in loaded
    for heavy in (
        "litestar",
        "piccolo",
        "httpx",
        "click",
        "msgspec",
        "jinja2",
        "sqlite3",
        "asyncpg",
    ):
        assert heavy not in loaded, heavy


def test_signing_imports_only_what_a_pure_library_needs() -> None:
    for source in sorted(SIGNING_DIR.glob("*.py")):
        tree = ast.parse(source.read_text(), filename=str(source))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                roots = {(node.module or "").split(".")[0]}
            else:
                continue
            assert roots <= ALLOWED_IMPORTS, f"{source.name}:{node.lineno} imports {roots}"


def test_signing_reads_no_clock_file_or_environment() -> None:
    for source in sorted(SIGNING_DIR.glob("*.py")):
        tree = ast.parse(source.read_text(), filename=str(source))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                assert name not in FORBIDDEN_CALLS, f"{source.name}:{node.lineno} calls {name}()"
            if isinstance(node, ast.Attribute):
                assert node.attr != "environ", f"{source.name}:{node.lineno} reads os.environ"

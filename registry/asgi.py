"""ASGI entry point: `uvicorn --factory registry.asgi:build` (what `starmark serve` runs)."""

from __future__ import annotations

from litestar import Litestar

from registry.app import create_app
from registry.settings import Settings


def build() -> Litestar:
    return create_app(Settings.from_env())

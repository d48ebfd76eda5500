"""ASGI entry point: `uvicorn --factory registry.asgi:build` (what `starmark serve` runs)."""

from __future__ import annotations

import gc

from litestar import Litestar

from registry.app import create_app
from registry.logs import configure_logging
from registry.settings import Settings


def freeze_startup_heap(app: Litestar) -> None:
    """Keep what start-up built out of the garbage collector's full collections.

    Everything alive once the app has started (modules, the app, templates,
    connections) lives as long as the process. A full (generation 2) collection
    walks all of it: measured at 40-55 ms a time, about once a second under
    load, which was the whole p99 latency of `GET /v/{number}` at 64 connections
    (bench/bench_verify_page.py). `gc.freeze()` moves those objects to the
    permanent generation (https://docs.python.org/3/library/gc.html#gc.freeze),
    so collections only walk objects made since. Only for the served app: the
    test suite builds many apps in one process and needs their cycles collected.
    """
    gc.collect()
    gc.freeze()


def build() -> Litestar:
    configure_logging()
    app = create_app(Settings.from_env())
    app.on_startup.append(freeze_startup_heap)
    return app

"""`GET /metrics`: Prometheus text exposition through `prometheus-client`.

Requests are counted and timed by Litestar's Prometheus middleware with the
route template as the `path` label (`/v/{number}`, never `/v/SMT-...`: one
series per route, not per certificate). The registry's own series:

- `starmark_verdicts_total{status, surface}`: verdicts answered by the read path,
  per status, on the page, the API and bulk checks;
- `starmark_log_size`: entries in the transparency log (set by the log, issue 10);
- `starmark_import_rows{kind="done"|"total"}`: progress of the running
  `starmark cert import`.

Several worker processes: set PROMETHEUS_MULTIPROC_DIR to an empty directory,
the same for every process (the server's workers and `starmark cert import`)
before they start; `/metrics` then adds up every process's files
(docs/operations.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from prometheus_client import Counter, Gauge

__all__ = [
    "IMPORT_ROWS",
    "LOG_SIZE",
    "PROMETHEUS",
    "VERDICTS",
    "MetricsController",
    "count_verdicts",
]

PROMETHEUS: Final = PrometheusConfig(
    app_name="starmark",
    prefix="starmark",
    # Litestar's `path_template`: the route, not the raw path.
    group_path=True,
    exclude=["^/metrics", "^/static/"],
)


class MetricsController(PrometheusController):
    path = "/metrics"
    include_in_schema = False


VERDICTS: Final = Counter(
    "starmark_verdicts",
    "Verdicts answered by the read path, by status and surface (page, api, bulk)",
    ["status", "surface"],
)

LOG_SIZE: Final = Gauge(
    "starmark_log_size",
    "Entries in the transparency log (set by the log)",
    multiprocess_mode="max",
)

IMPORT_ROWS: Final = Gauge(
    "starmark_import_rows",
    "Rows of the running (or last) `starmark cert import`: done and total",
    ["kind"],
    multiprocess_mode="mostrecent",
)


def count_verdicts(statuses: Iterable[str], *, surface: str) -> None:
    for status in statuses:
        VERDICTS.labels(status=status, surface=surface).inc()

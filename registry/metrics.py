"""`GET /metrics`: Prometheus text exposition through `prometheus-client`.

Requests are counted and timed by `REQUESTS`, called from the access-log
middleware (registry/logs.py) with the route template as the `path` label
(`/v/{number}`, never `/v/SMT-...`: one series per route, not per certificate).
It keeps the series and label names of Litestar's Prometheus middleware, which
it replaces: that middleware built a `Request`, a label dict and a wrapped
`send` for every answer and looked each series up by its labels, a sixth of
the verification page's time (docs/benchmarks.md). Here one labelled child a
route and status is kept, so counting an answer is a dict lookup and three
increments. The registry's own series:

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
from typing import Any, Final

from litestar.plugins.prometheus import PrometheusController
from prometheus_client import Counter, Gauge, Histogram

__all__ = [
    "IMPORT_ROWS",
    "LOG_SIZE",
    "REQUESTS",
    "VERDICTS",
    "MetricsController",
    "count_verdicts",
]

#: Answers not counted: the scrape itself and static files (their own cache, no interest).
_NOT_COUNTED: Final = ("/metrics", "/static/")
_APP_NAME: Final = "starmark"
_LABELS: Final = ("method", "path", "status_code", "app_name")


class RequestMetrics:
    """Answers by method, route template and status: count, duration, in progress, 5xx."""

    def __init__(self) -> None:
        self.total = Counter("starmark_requests", "Total requests", _LABELS)
        self.duration = Histogram(
            "starmark_request_duration_seconds", "Request duration, in seconds", _LABELS
        )
        self.in_progress = Gauge(
            "starmark_requests_in_progress",
            "Total requests currently in progress",
            _LABELS,
            multiprocess_mode="livesum",
        )
        self.errors = Counter("starmark_requests_error", "Total errors in requests", _LABELS)
        # prometheus-client's `labels()` checks and locks on every call; the children
        # it returns live as long as the series, so each is looked up once.
        self._running: dict[tuple[str, str], Any] = {}
        self._answered: dict[tuple[str, str, int], tuple[Any, Any, Any]] = {}

    def started(self, method: str, route: str) -> Any:
        """The in-progress gauge of this route, raised by one (None: not counted)."""
        child = self._running.get((method, route))
        if child is None:
            if route.startswith(_NOT_COUNTED):
                return None
            # Litestar's middleware labelled this gauge with status 200 throughout.
            child = self.in_progress.labels(method, route, "200", _APP_NAME)
            self._running[(method, route)] = child
        child.inc()
        return child

    def answered(self, method: str, route: str, status: int, seconds: float) -> None:
        children = self._answered.get((method, route, status))
        if children is None:
            if route.startswith(_NOT_COUNTED):
                return
            labels = (method, route, str(status), _APP_NAME)
            error = self.errors.labels(*labels) if status >= 500 else None
            children = (self.total.labels(*labels), self.duration.labels(*labels), error)
            self._answered[(method, route, status)] = children
        total, duration, error = children
        total.inc()
        duration.observe(seconds)
        if error is not None:
            error.inc()


REQUESTS: Final = RequestMetrics()


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


_VERDICT_CHILDREN: Final[dict[tuple[str, str], Any]] = {}


def count_verdicts(statuses: Iterable[str], *, surface: str) -> None:
    for status in statuses:
        child = _VERDICT_CHILDREN.get((status, surface))
        if child is None:
            child = _VERDICT_CHILDREN[(status, surface)] = VERDICTS.labels(status, surface)
        child.inc()

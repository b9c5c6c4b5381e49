"""Prometheus metrics, served at /metrics to admin keys.

With several workers, each is a process of its own: prometheus_client's multiprocess mode
(PROMETHEUS_MULTIPROC_DIR, which `atmp-graph serve --workers N` sets up) has every worker
write its values to files in one directory, and whichever worker a scrape reaches adds them all
up.  Without it, the values are this process's own, in a registry per app (a test builds many).

Why admin keys, not a port of its own: a deployment already exposes one port per worker host and
Prometheus sends a bearer token as easily as a load balancer polls a path; a second port would
need a second server in every worker, or a supervisor that is not there when uvicorn runs the
app itself.  A scrape needs the key lookup, one indexed statement; the admin keys that passed it
are remembered for a few minutes, so the metrics stay readable while the database is down.
"""

import hashlib
import os
import shutil
import time
from pathlib import Path
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Scope

from atmp_graph.api.auth import Authenticator, KeyRefused
from atmp_graph.api.observed_request import RequestRecord
from atmp_graph.enums import Role

__all__ = [
    "MULTIPROC_DIR",
    "Metrics",
    "MetricsEndpoint",
    "prepare_multiprocess_directory",
    "remove_multiprocess_directory",
]

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
STATEMENT_BUCKETS = (0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 100)
# How long an admin key that passed the lookup still opens /metrics when the lookup fails.
REMEMBERED_SECONDS = 300


def multiprocess_mode() -> bool:
    return MULTIPROC_DIR in os.environ


def prepare_multiprocess_directory(directory: Path) -> None:
    """Empty `directory` of a previous run's values (prometheus_client's own advice: a counter
    would otherwise start from where the last server left it)."""
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()


def remove_multiprocess_directory(directory: Path) -> None:
    shutil.rmtree(directory, ignore_errors=True)


class Metrics:
    """The metrics and the request sink that fills them (api/observed_request.py)."""

    def __init__(self) -> None:
        self.multiprocess = multiprocess_mode()
        # In multiprocess mode the files are the registry; a scrape collects them.
        registry = None if self.multiprocess else CollectorRegistry()
        self.registry = registry
        self.requests = Counter(
            "atmp_graph_requests",
            "HTTP requests answered, by GraphQL operation type (none: not GraphQL, or refused "
            "before it parsed) and HTTP status.",
            ["operation_type", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "atmp_graph_request_duration_seconds",
            "Time from a request's arrival to its response's last byte.",
            ["operation_type"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.errors = Counter(
            "atmp_graph_request_errors",
            "Errors in responses: GraphQL errors by extensions.code, refusals as HTTP_<status>.",
            ["operation_type", "code"],
            registry=registry,
        )
        self.statements = Histogram(
            "atmp_graph_sql_statements_per_request",
            "SQL statements a request sent, on either engine.",
            buckets=STATEMENT_BUCKETS,
            registry=registry,
        )
        # Filled by the parts that come later; registered now, at 0, so dashboards exist.
        self.subscriptions = Gauge(
            "atmp_graph_subscriptions_open",
            "GraphQL subscriptions open, in all live workers.",
            multiprocess_mode="livesum",
            registry=registry,
        )
        self.job_queue_depth = Gauge(
            "atmp_graph_job_queue_depth",
            "Ingest jobs waiting in the queue, as last seen by any process.",
            multiprocess_mode="mostrecent",
            registry=registry,
        )
        self.subscriptions.set(0)
        self.job_queue_depth.set(0)
        # Label children, looked up once: `labels()` takes a lock and builds a key each time.
        self._children: dict[tuple[Any, ...], Any] = {}

    def _child(self, metric: Any, *labels: str) -> Any:
        key = (id(metric), *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def start(self, record: RequestRecord, scope: Scope) -> None:
        pass

    def finish(self, record: RequestRecord) -> None:
        if record.ops or record.method == "WEBSOCKET":
            return
        kind = record.operation_type or "none"
        self._child(self.requests, kind, str(record.status)).inc()
        self._child(self.latency, kind).observe(record.duration_ms / 1000)
        self.statements.observe(record.statements)
        for code, _ in record.errors:
            self._child(self.errors, kind, code).inc()
        if record.status >= 400 and not record.errors:
            self._child(self.errors, kind, f"HTTP_{record.status}").inc()

    def exposition(self) -> bytes:
        if self.registry is not None:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)

    def close(self) -> None:
        """At a worker's shutdown: its live gauges stop counting towards the sums."""
        if self.multiprocess:
            multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


class MetricsEndpoint:
    """GET /metrics: the exposition for an admin key, 401 without a working key, 403 for
    others."""

    def __init__(self, metrics: Metrics, authenticator: Authenticator) -> None:
        self.metrics, self.authenticator = metrics, authenticator
        self._admins: dict[str, float] = {}  # SHA-256 of a token -> until when it is trusted

    async def respond(self, request: Request) -> Response:
        authorization = request.headers.get("authorization")
        if not authorization:
            return _refused(401, "the metrics are for admin keys: send `Authorization: Bearer`")
        remembered = hashlib.sha256(authorization.encode()).hexdigest()
        try:
            viewer = await self.authenticator.viewer(authorization)
        except KeyRefused as refused:
            return _refused(401, str(refused))
        except Exception:
            # The database is away: a key that was an admin's a moment ago still is.
            if self._admins.get(remembered, 0) < time.monotonic():
                return _refused(503, "the key cannot be checked now: the database is unavailable")
        else:
            if viewer.role is not Role.ADMIN:
                return _refused(403, "only admin keys may read the metrics")
            self._admins[remembered] = time.monotonic() + REMEMBERED_SECONDS
        return Response(self.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)


def _refused(status: int, reason: str) -> JSONResponse:
    return JSONResponse({"errors": [{"message": reason}]}, status_code=status)

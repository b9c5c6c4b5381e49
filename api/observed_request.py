"""What one request did, as the log line, the metrics and the trace report it.

The middleware opens a record per request and keeps it in a context variable: the engines'
cursor listeners count the SQL statements into it (api/sql_statements.py), the GraphQL view and
the compiled answers fill in the operation, the viewer, the read path and the errors; when the
response has gone, each sink reads the finished record once.
"""

import contextvars
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from atmp_graph.access.viewer import Viewer
from atmp_graph.api.request_id import request_id

__all__ = ["OPS_PATHS", "ObserveRequests", "RequestRecord", "Sink", "current_request"]

logger = logging.getLogger("atmp_graph.errors")

# Polled by load balancers and Prometheus: logged at debug level, not counted as traffic.
OPS_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


@dataclass(slots=True)
class RequestRecord:
    method: str
    path: str
    started: float = field(default_factory=time.perf_counter)
    request_id: str | None = None
    status: int = 0
    duration_ms: float = 0.0
    statements: int = 0
    viewer: Viewer | None = None
    operation_type: str | None = None  # query, mutation, subscription: None before parsing
    operation_name: str | None = None
    read_path: dict[str, list[str]] | None = None
    # What the client was told went wrong: (code, message), masked as the client saw them.
    errors: list[tuple[str, str]] = field(default_factory=list)
    span: Any = None  # the request's server span, when tracing is on

    @property
    def ops(self) -> bool:
        return self.path in OPS_PATHS

    @property
    def failed(self) -> bool:
        return bool(self.errors) or self.status >= 400


_CURRENT: contextvars.ContextVar[RequestRecord | None] = contextvars.ContextVar(
    "atmp_graph_request", default=None
)


def current_request() -> RequestRecord | None:
    """The record of the request this code runs for (None outside one: an ingest, a test)."""
    return _CURRENT.get()


class Sink(Protocol):
    def start(self, record: RequestRecord, scope: Scope) -> None:
        """Called before the app sees the request."""

    def finish(self, record: RequestRecord) -> None:
        """Called once the response has been sent (or the request failed)."""


class ObserveRequests:
    """Inside RequestIdMiddleware (the record carries its id), outside everything else."""

    def __init__(self, app: ASGIApp, *, sinks: Sequence[Sink]) -> None:
        self.app, self.sinks = app, tuple(sinks)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket") or not self.sinks:
            await self.app(scope, receive, send)
            return
        record = RequestRecord(scope.get("method", "WEBSOCKET"), scope["path"])
        record.request_id = request_id(scope)
        for sink in self.sinks:
            sink.start(record, scope)

        async def send_noting_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                record.status = message["status"]
            elif message["type"] == "websocket.accept":
                record.status = 101
            await send(message)

        token = _CURRENT.set(record)
        try:
            await self.app(scope, receive, send_noting_status)
        except BaseException:
            # RequestIdMiddleware answers 500 (or the connection is gone).
            record.status = record.status or 500
            raise
        finally:
            _CURRENT.reset(token)
            record.duration_ms = (time.perf_counter() - record.started) * 1000
            for sink in self.sinks:
                try:
                    sink.finish(record)
                except Exception:
                    # A log or a metric that cannot be written must not fail the request.
                    logger.exception("request %s: %s could not record it", record.request_id, sink)

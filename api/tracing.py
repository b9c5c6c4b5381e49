"""OpenTelemetry traces: a server span per request, a client span per SQL statement under it.

Off unless asked for (ATMP_TRACING=true, or the standard OTEL_TRACES_EXPORTER or
OTEL_EXPORTER_OTLP_*ENDPOINT variables; OTEL_SDK_DISABLED=true wins): when off, nothing here is
installed, so a request pays nothing for it.  On, spans go to OTLP over HTTP as the OTEL_*
variables configure it (`console` prints them).  A caller's `traceparent` header makes the
request's span a child of the caller's.

The SQL spans come from the engines' cursor events rather than from SQLAlchemy's
instrumentation package, which keeps its span on the execution context: the read planner's
statements have none (schema/planner/driver_sql.py fires the events with `context=None`).  A
span is kept on the connection instead, which runs one statement at a time; a planned statement
that failed fires no after-event, so its span is ended, as failed, when the connection is next
used or goes back to the pool.
"""

import os
from collections.abc import Mapping
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import Scope

from atmp_graph.api.observed_request import RequestRecord
from atmp_graph.api.settings import Settings

__all__ = ["Tracing", "provider_from_environment", "tracing_wanted"]

SWITCHES = (
    "OTEL_TRACES_EXPORTER",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
)
_SPAN = "atmp_graph.sql_span"
MAX_STATEMENT_CHARS = 2_000


def tracing_wanted(settings: Settings, environ: Mapping[str, str] = os.environ) -> bool:
    if environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    if environ.get("OTEL_TRACES_EXPORTER", "").lower() == "none":
        return False
    return settings.tracing or any(environ.get(name) for name in SWITCHES)


def provider_from_environment(environ: Mapping[str, str] = os.environ) -> TracerProvider:
    """A provider exporting as the OTEL_* variables say (OTLP over HTTP by default)."""
    named = {} if environ.get("OTEL_SERVICE_NAME") else {SERVICE_NAME: "atmp-graph"}
    provider = TracerProvider(resource=Resource.create(named))
    exporter: SpanExporter
    if environ.get("OTEL_TRACES_EXPORTER", "").lower() == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter  # noqa: PLC0415

        exporter = ConsoleSpanExporter()
    else:
        # Imported only when tracing is on: it pulls in protobuf.
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # noqa: PLC0415
            OTLPSpanExporter,
        )

        exporter = OTLPSpanExporter()
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


class Tracing:
    """The request sink (api/observed_request.py) that opens and closes the server span, and
    the SQL spans' listeners."""

    def __init__(self, provider: TracerProvider) -> None:
        self.provider = provider
        # Later parts (jobs) open their spans with this tracer too.
        self.tracer = provider.get_tracer("atmp_graph")

    def start(self, record: RequestRecord, scope: Scope) -> None:
        headers = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in scope.get("headers", ())
        }
        parent = propagate.extract(headers)
        span = self.tracer.start_span(
            f"{record.method} {record.path}",
            context=parent,
            kind=SpanKind.SERVER,
            attributes={"http.request.method": record.method, "url.path": record.path},
        )
        token = otel_context.attach(trace.set_span_in_context(span, parent))
        record.span = (span, token)

    def finish(self, record: RequestRecord) -> None:
        span, token = record.span
        span.set_attribute("http.response.status_code", record.status)
        span.set_attribute("atmp_graph.sql.statements", record.statements)
        if record.operation_type:
            span.set_attribute("graphql.operation.type", record.operation_type)
        if record.operation_name:
            span.set_attribute("graphql.operation.name", record.operation_name)
        if record.read_path is not None:
            span.set_attribute("atmp_graph.read_path.compiled", record.read_path["compiled"])
        if record.status >= 500 or record.errors:
            codes = ", ".join(code for code, _ in record.errors) or f"HTTP {record.status}"
            span.set_status(Status(StatusCode.ERROR, codes))
        span.end()
        otel_context.detach(token)

    def trace_sql(self, *engines: AsyncEngine | None) -> None:
        for engine in {id(e): e for e in engines if e is not None}.values():
            target = engine.sync_engine
            system = target.dialect.name
            event.listen(target, "before_cursor_execute", self._before(system))
            event.listen(target, "after_cursor_execute", _after)
            event.listen(target, "handle_error", _failed)
            event.listen(target.pool, "checkin", _returned)

    def _before(self, system: str) -> Any:
        tracer = self.tracer

        def before(connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
            info = connection.info
            _end(info.pop(_SPAN, None), "the statement did not finish")
            verb = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "SQL"
            info[_SPAN] = tracer.start_span(
                f"{verb} {system}",
                kind=SpanKind.CLIENT,
                attributes={
                    "db.system.name": system,
                    "db.query.text": statement[:MAX_STATEMENT_CHARS],
                },
            )

        return before


def _end(span: Any, failure: str | None = None) -> None:
    if span is None:
        return
    if failure is not None:
        span.set_status(Status(StatusCode.ERROR, failure))
    span.end()


def _after(connection: Any, *_: Any) -> None:
    _end(connection.info.pop(_SPAN, None))


def _failed(context: Any) -> None:
    connection = context.connection
    if connection is not None:
        error = context.original_exception
        _end(connection.info.pop(_SPAN, None), type(error).__name__)


def _returned(_dbapi_connection: Any, record: Any) -> None:
    _end(record.info.pop(_SPAN, None), "the statement did not finish")

"""With tracing on, a request is a server span and each SQL statement it sent a client span
under it, whichever read path answered (the planner's statements bypass SQLAlchemy's execution);
a caller's `traceparent` makes the request part of the caller's trace."""

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from starlette.testclient import TestClient

from atmp_graph.api.app import create_app
from atmp_graph.api.settings import Settings
from atmp_graph.api.tracing import tracing_wanted

PAGE = {"query": "query TrialPage { trials(first: 2) { nodes { title sponsor { name } } } }"}


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


def traced_client(
    demo_database_url: str, exporter: InMemorySpanExporter, **settings: bool
) -> TestClient:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = create_app(Settings(database_url=demo_database_url, **settings), tracer_provider=provider)
    return TestClient(app)


def requests_and_statements(
    spans: tuple[ReadableSpan, ...],
) -> list[tuple[ReadableSpan, list[ReadableSpan]]]:
    servers = [span for span in spans if span.kind is SpanKind.SERVER]
    return [
        (
            server,
            [
                span
                for span in spans
                if span.parent is not None and span.parent.span_id == server.context.span_id
            ],
        )
        for server in servers
    ]


@pytest.mark.parametrize(
    ("compiled_reads", "read_paths"),
    [(True, ["the planner", "the planner, by heart"]), (False, ["the resolvers"] * 2)],
    ids=["planned", "resolvers"],
)
def test_a_request_is_a_server_span_over_its_sql_spans(
    demo_database_url: str,
    exporter: InMemorySpanExporter,
    compiled_reads: bool,
    read_paths: list[str],
) -> None:
    with traced_client(demo_database_url, exporter, compiled_reads=compiled_reads) as client:
        for _ in read_paths:
            assert client.post("/graphql", json=PAGE).status_code == 200

    traced = requests_and_statements(exporter.get_finished_spans())
    assert len(traced) == len(read_paths)
    for server, statements in traced:
        attributes = dict(server.attributes or {})
        assert (server.name, attributes["http.response.status_code"]) == ("POST /graphql", 200)
        assert attributes["graphql.operation.name"] == "TrialPage"
        assert attributes["atmp_graph.sql.statements"] == len(statements) > 0
        for statement in statements:
            verb = str((statement.attributes or {})["db.query.text"]).split(maxsplit=1)[0]
            assert (statement.kind, verb.upper()) == (SpanKind.CLIENT, "SELECT")
            assert statement.context.trace_id == server.context.trace_id


def test_a_callers_traceparent_makes_the_request_its_child(
    demo_database_url: str, exporter: InMemorySpanExporter
) -> None:
    trace_id, parent_id = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"
    with traced_client(demo_database_url, exporter) as client:
        client.post("/graphql", json=PAGE, headers={"traceparent": f"00-{trace_id}-{parent_id}-01"})

    [(server, _)] = requests_and_statements(exporter.get_finished_spans())
    assert server.parent is not None
    assert (f"{server.context.trace_id:032x}", f"{server.parent.span_id:016x}") == (
        trace_id,
        parent_id,
    )


@pytest.mark.parametrize(
    ("tracing", "environment", "wanted"),
    [
        (False, {}, False),
        (True, {}, True),
        (False, {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        (False, {"OTEL_TRACES_EXPORTER": "otlp"}, True),
        (True, {"OTEL_SDK_DISABLED": "true"}, False),
        (True, {"OTEL_TRACES_EXPORTER": "none"}, False),
    ],
)
def test_tracing_is_off_unless_switched_on(
    tracing: bool, environment: dict[str, str], wanted: bool
) -> None:
    assert tracing_wanted(Settings(tracing=tracing), environment) is wanted

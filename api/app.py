"""The Starlette app: GraphQL (and GraphiQL) at /graphql; the probes /healthz and /readyz and
the Prometheus metrics at /metrics (api/probes.py, api/metrics.py).

GraphiQL's scripts and stylesheets come from the package, under /graphiql/static: no CDN.
"""

import asyncio
import contextlib
import dataclasses
import gc
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import BaseRoute, Route, WebSocketRoute

from atmp_graph.api.body_limit import BodyLimit
from atmp_graph.api.cors import Cors
from atmp_graph.api.graphiql import graphiql_assets
from atmp_graph.api.graphql_view import GraphQLView
from atmp_graph.api.live_updates import LiveUpdates
from atmp_graph.api.metrics import Metrics, MetricsEndpoint
from atmp_graph.api.observed_request import ObserveRequests, Sink
from atmp_graph.api.persisted import PersistedQueries
from atmp_graph.api.probes import Probes
from atmp_graph.api.rate_limit import RateLimit
from atmp_graph.api.request_id import RequestIdMiddleware
from atmp_graph.api.request_log import RequestLog, configure_process_logging
from atmp_graph.api.settings import Settings
from atmp_graph.api.shared_store import open_store
from atmp_graph.api.sql_statements import count_statements
from atmp_graph.api.tracing import Tracing, provider_from_environment, tracing_wanted
from atmp_graph.identity.precedence import load_precedence
from atmp_graph.jobs.service import open_jobs
from atmp_graph.model.database import make_async_engine
from atmp_graph.plugins.manager import build_plugin_host

# What runs at shutdown, after uvicorn has let the requests in flight finish and before the
# engines close: the place for what must be told to stop (subscriptions, when they come).
ShutdownHook = Callable[[], Awaitable[None]]


def create_app(
    settings: Settings | None = None,
    *,
    engine: AsyncEngine | None = None,
    tracer_provider: TracerProvider | None = None,
) -> Starlette:
    """The ASGI app over the database that `settings` (or `engine`) names; `tracer_provider`
    traces it whatever the environment says (a test's in-memory exporter)."""
    settings = settings or Settings()
    given = engine
    engine = engine or make_async_engine(settings.database_url, limits=settings.database_limits)
    # The read planner's quick statements, on a few connections of their own
    # (model/database.py, compiled_reads.answer_operation); an engine handed in serves both.
    reads = (
        None
        if given is not None
        else make_async_engine(
            settings.database_url, limits=settings.read_database_limits, reads_only=True
        )
    )
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    store = open_store(settings)
    # The poller and pruner have a connection of their own, on the lifespan's event loop: an
    # app served from several loops (a test client each) must not share it with requests.
    watching = make_async_engine(
        settings.database_url,
        limits=dataclasses.replace(settings.database_limits, pool_size=1, max_overflow=0),
    )
    live = LiveUpdates(async_sessionmaker(watching, expire_on_commit=False), settings)

    probes = Probes(engine, store)
    metrics = Metrics()
    tracing, own_provider = _tracing(settings, tracer_provider)
    # Run once in-flight requests are answered: the subscriptions end first.
    shutdown_hooks: list[ShutdownHook] = [live.stop]

    async def home(_request: Request) -> RedirectResponse:
        return RedirectResponse("/graphql")

    host = build_plugin_host(
        load_entry_points=settings.plugins_from_entry_points, only=settings.only_plugins
    )
    # With Redis, a web worker only queues runs; without, it runs them too (jobs/service.py).
    jobs = open_jobs(
        jobs_file=settings.jobs_config,
        database_url=settings.database_url,
        redis_url=settings.redis_url,
        redis_prefix=settings.redis_prefix,
        host=host,
        precedence=load_precedence(settings.precedence),
    )

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        settle_garbage_collector()
        await live.start()
        jobs.start()
        yield
        for hook in shutdown_hooks:
            await hook()
        await watching.dispose()
        gc.unfreeze()  # for a process that lives on (a test run), as it was
        metrics.close()
        if own_provider is not None:
            own_provider.shutdown()
        await asyncio.to_thread(jobs.close)
        await store.close()
        await engine.dispose()
        if reads is not None:
            await reads.dispose()

    persisted = PersistedQueries(store, sessions, persisted_only=settings.persisted_only)
    graphql = GraphQLView(
        sessions,
        plugins=host.describe(),
        settings=settings,
        persisted=persisted,
        reads=reads,
        live=live,
        jobs=jobs,
    )
    routes: list[BaseRoute] = [
        Route("/", home),
        Route("/graphql", graphql),
        WebSocketRoute("/graphql", graphql),
        Route("/healthz", probes.healthz),
        Route("/readyz", probes.readyz),
        Route("/metrics", MetricsEndpoint(metrics, graphql.authenticator).respond),
    ]
    if settings.graphiql:
        routes.append(graphiql_assets())
    sinks: list[Sink] = [RequestLog(settings), metrics]
    if tracing is not None:
        sinks.append(tracing)
        tracing.trace_sql(engine, reads)
    count_statements(engine, reads)
    app = Starlette(
        routes=routes,
        middleware=_middleware(settings, store, sinks),
        lifespan=lifespan,
    )
    app.state.engine, app.state.reads, app.state.live = engine, reads, live
    app.state.metrics, app.state.tracing = metrics, tracing
    app.state.shutdown_hooks = shutdown_hooks
    return app


def _tracing(
    settings: Settings, given: TracerProvider | None
) -> tuple[Tracing | None, TracerProvider | None]:
    """The app's tracing, if any, and the provider it must shut down: one handed in is its
    owner's to shut down, one made here the app's."""
    own = provider_from_environment() if given is None and tracing_wanted(settings) else None
    provider = given or own
    return (None if provider is None else Tracing(provider)), own


def _middleware(settings: Settings, store: Any, sinks: list[Sink]) -> list[Middleware]:
    # The rate limit goes first: a flood is turned away before its bodies are read. CORS
    # before it, so a page on another origin can read a 429 too (and preflights are free).
    middleware = [Middleware(RequestIdMiddleware), Middleware(ObserveRequests, sinks=sinks)]
    if settings.cors_origin_list:
        middleware.append(
            Middleware(
                Cors,
                origins=settings.cors_origin_list,
                max_age_seconds=settings.cors_max_age_seconds,
            )
        )
    if settings.rate_limit:
        limits = Middleware(
            RateLimit,
            store=store,
            window_seconds=settings.rate_limit_window_seconds,
            per_address=settings.rate_limit_per_address,
            per_key=settings.rate_limit_per_key,
            trusted_proxies=settings.trusted_proxy_networks,
        )
        middleware.append(limits)
    middleware.append(Middleware(BodyLimit, max_bytes=settings.body_limit_bytes))
    return middleware


def settle_garbage_collector() -> None:
    """Move what start-up made (the schema, the mappers, the plugins) out of the cyclic
    collector's sight, and let it run less often: it re-scanned those long-lived objects on
    every run, and that was about 45 % of a request's CPU."""
    gc.collect()
    gc.freeze()
    # Requests leave few cycles; a larger first generation collects them in fewer runs.
    gc.set_threshold(GC_FIRST_GENERATION, *gc.get_threshold()[1:])


GC_FIRST_GENERATION = 20_000


def app_from_environment() -> Starlette:
    """The factory uvicorn calls in each worker: settings come from the environment, and so
    does the worker's logging (uvicorn's own lines too)."""
    settings = Settings()
    configure_process_logging(settings)
    return create_app(settings)

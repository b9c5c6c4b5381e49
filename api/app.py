"""The Starlette app: GraphQL (and GraphiQL) at /graphql, a health check at /healthz.

GraphiQL's scripts and stylesheets come from the package, under /graphiql/static: no CDN.
"""

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse
from starlette.routing import BaseRoute, Route, WebSocketRoute

from atmp_graph.api.body_limit import BodyLimit
from atmp_graph.api.graphiql import graphiql_assets
from atmp_graph.api.graphql_view import GraphQLView
from atmp_graph.api.persisted import PersistedQueries
from atmp_graph.api.rate_limit import RateLimit
from atmp_graph.api.request_id import RequestIdMiddleware, request_id
from atmp_graph.api.settings import Settings
from atmp_graph.api.shared_store import open_store
from atmp_graph.identity.precedence import load_precedence
from atmp_graph.jobs.service import open_jobs
from atmp_graph.model.database import make_async_engine
from atmp_graph.plugins.manager import build_plugin_host

logger = logging.getLogger("atmp_graph.errors")


def create_app(settings: Settings | None = None, *, engine: AsyncEngine | None = None) -> Starlette:
    """The ASGI app over the database that `settings` (or `engine`) names."""
    settings = settings or Settings()
    given = engine
    engine = engine or make_async_engine(settings.database_url, limits=settings.database_limits)
    # The read planner's statements, on connections of their own (model/database.py); an
    # engine handed in serves both.
    reads = (
        None
        if given is not None
        else make_async_engine(
            settings.database_url, limits=settings.database_limits, reads_only=True
        )
    )
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    store = open_store(settings)

    async def healthz(request: Request) -> JSONResponse:
        try:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception:
            # The driver's words (host, user, database) are for the log, not for whoever asks.
            logger.exception("request %s: the database does not answer", request_id(request.scope))
            return JSONResponse({"status": "error"}, status_code=503)
        return JSONResponse({"status": "ok"})

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
        jobs.start()
        yield
        gc.unfreeze()  # for a process that lives on (a test run), as it was
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
        jobs=jobs,
    )
    routes: list[BaseRoute] = [
        Route("/", home),
        Route("/graphql", graphql),
        WebSocketRoute("/graphql", graphql),
        Route("/healthz", healthz),
    ]
    if settings.graphiql:
        routes.append(graphiql_assets())
    # The rate limit goes first: a flood is turned away before its bodies are read.
    middleware = [Middleware(RequestIdMiddleware)]
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
    app = Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
    )
    app.state.engine, app.state.reads = engine, reads
    return app


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
    """The factory uvicorn calls in each worker: settings come from the environment."""
    return create_app(Settings())

"""The Starlette app: GraphQL (and GraphiQL) at /graphql, a health check at /healthz.

GraphiQL's scripts and stylesheets come from the package, under /graphiql/static: no CDN.
"""

import contextlib
import logging
from collections.abc import AsyncIterator

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse
from starlette.routing import BaseRoute, Route, WebSocketRoute

from atmp_graph.api.graphiql import graphiql_assets
from atmp_graph.api.graphql_view import GraphQLView
from atmp_graph.api.request_id import RequestIdMiddleware, request_id
from atmp_graph.api.settings import Settings
from atmp_graph.model.database import make_async_engine
from atmp_graph.plugins.manager import build_plugin_host

logger = logging.getLogger("atmp_graph.errors")


def create_app(settings: Settings | None = None, *, engine: AsyncEngine | None = None) -> Starlette:
    """The ASGI app over the database that `settings` (or `engine`) names."""
    settings = settings or Settings()
    engine = engine or make_async_engine(settings.database_url, limits=settings.database_limits)
    sessions = async_sessionmaker(engine, expire_on_commit=False)

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

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        await engine.dispose()

    host = build_plugin_host(
        load_entry_points=settings.plugins_from_entry_points, only=settings.only_plugins
    )
    graphql = GraphQLView(sessions, plugins=host.describe(), settings=settings)
    routes: list[BaseRoute] = [
        Route("/", home),
        Route("/graphql", graphql),
        WebSocketRoute("/graphql", graphql),
        Route("/healthz", healthz),
    ]
    if settings.graphiql:
        routes.append(graphiql_assets())
    app = Starlette(
        routes=routes,
        middleware=[Middleware(RequestIdMiddleware)],
        lifespan=lifespan,
    )
    app.state.engine = engine
    return app


def app_from_environment() -> Starlette:
    """The factory uvicorn calls in each worker: settings come from the environment."""
    return create_app(Settings())

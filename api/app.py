"""The Starlette app: GraphQL (and GraphiQL) at /graphql, a health check at /healthz.

GraphiQL's scripts and stylesheets come from the package, under /graphiql/static: no CDN.
"""

import contextlib
from collections.abc import AsyncIterator, Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from atmp_graph.api.auth import is_admin
from atmp_graph.api.graphiql import graphiql_assets, graphiql_page
from atmp_graph.api.settings import Settings
from atmp_graph.identity.precedence import load_precedence
from atmp_graph.model.database import make_async_engine
from atmp_graph.plugins.manager import PluginInfo, build_plugin_host
from atmp_graph.schema.context import Context
from atmp_graph.schema.schema import build_schema


class GraphQLView(GraphQL[Context, None]):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        plugins: Sequence[PluginInfo],
        settings: Settings,
    ) -> None:
        super().__init__(
            build_schema(settings.query_limits),
            graphql_ide="graphiql" if settings.graphiql else None,
        )
        self.sessions, self.plugins = sessions, plugins
        self.precedence = load_precedence(settings.precedence)
        self.admin_token = settings.admin_token

    @property
    def graphql_ide_html(self) -> str:
        # Strawberry's own page loads its assets from a CDN; ours, from this app.
        return graphiql_page()

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        return Context(
            sessions=self.sessions,
            plugins=self.plugins,
            request=request,
            precedence=self.precedence,
            admin=is_admin(request.headers.get("authorization"), self.admin_token),
        )


def create_app(settings: Settings | None = None, *, engine: AsyncEngine | None = None) -> Starlette:
    """The ASGI app over the database that `settings` (or `engine`) names."""
    settings = settings or Settings()
    engine = engine or make_async_engine(settings.database_url)
    sessions = async_sessionmaker(engine, expire_on_commit=False)

    async def healthz(_request: Request) -> JSONResponse:
        try:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as error:
            return JSONResponse({"status": "error", "database": str(error)}, status_code=503)
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
        lifespan=lifespan,
    )
    app.state.engine = engine
    return app


def app_from_environment() -> Starlette:
    """The factory uvicorn calls in each worker: settings come from the environment."""
    return create_app(Settings())

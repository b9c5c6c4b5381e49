"""The Starlette app: GraphQL (and GraphiQL) at /graphql, a health check at /healthz.

GraphiQL's scripts and stylesheets come from the package, under /graphiql/static: no CDN.
"""

import contextlib
import logging
from collections.abc import AsyncIterator, Sequence

from cross_web import HTTPException
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError

from atmp_graph.api.auth import Authenticator, KeyRefused
from atmp_graph.api.graphiql import graphiql_assets, graphiql_page
from atmp_graph.api.settings import Settings
from atmp_graph.identity.precedence import load_precedence
from atmp_graph.ingest.curated_values import check_curated_values
from atmp_graph.model.database import make_async_engine
from atmp_graph.plugins.manager import PluginInfo, build_plugin_host
from atmp_graph.schema.context import Context
from atmp_graph.schema.schema import build_schema

logger = logging.getLogger(__name__)


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
        secret = settings.secret_key.get_secret_value() if settings.secret_key else None
        self.authenticator = Authenticator(sessions, secret)

    @property
    def graphql_ide_html(self) -> str:
        # Strawberry's own page loads its assets from a CDN; ours, from this app.
        return graphiql_page()

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        try:
            viewer = await self.authenticator.viewer(request.headers.get("authorization"))
        except KeyRefused as refused:
            raise HTTPException(401, str(refused)) from None
        return Context(
            sessions=self.sessions,
            plugins=self.plugins,
            request=request,
            precedence=self.precedence,
            viewer=viewer,
            secret=self.authenticator.secret,
            response=response,
            check_curated=check_curated_values,
        )

    async def on_ws_connect(self, context: Context) -> None:
        """A WebSocket client signs in with its key in connection_init's payload."""
        if context.viewer.role is not None:
            return  # the upgrade request's own Authorization header said who
        try:
            context.viewer = await self.authenticator.viewer_of_payload(context.connection_params)
        except KeyRefused as refused:
            raise ConnectionRejectionError({"message": str(refused)}) from None


def create_app(settings: Settings | None = None, *, engine: AsyncEngine | None = None) -> Starlette:
    """The ASGI app over the database that `settings` (or `engine`) names."""
    settings = settings or Settings()
    engine = engine or make_async_engine(settings.database_url, limits=settings.database_limits)
    sessions = async_sessionmaker(engine, expire_on_commit=False)

    async def healthz(_request: Request) -> JSONResponse:
        try:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception:
            # The driver's words stay in the log: they can name hosts, users and SQL.
            logger.warning("health check: the database is unavailable", exc_info=True)
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
        lifespan=lifespan,
    )
    app.state.engine = engine
    return app


def app_from_environment() -> Starlette:
    """The factory uvicorn calls in each worker: settings come from the environment."""
    return create_app(Settings())

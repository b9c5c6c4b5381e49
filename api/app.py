"""The Starlette app: GraphQL (and GraphiQL) at /graphql, a health check at /healthz.

GraphiQL's scripts and stylesheets come from the package, under /graphiql/static: no CDN.
"""

import contextlib
import logging
from collections.abc import AsyncIterator, Sequence

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLRequestData
from strawberry.http.base import BaseRequestProtocol

from atmp_graph.api.auth import Authenticator, KeyRefused
from atmp_graph.api.body_limit import BodyLimit
from atmp_graph.api.graphiql import graphiql_assets, graphiql_page
from atmp_graph.api.persisted import PersistedQueries, PersistedQueryError
from atmp_graph.api.rate_limit import RateLimit
from atmp_graph.api.settings import Settings
from atmp_graph.api.shared_store import open_store
from atmp_graph.identity.precedence import load_precedence
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
        persisted: PersistedQueries,
    ) -> None:
        super().__init__(
            build_schema(settings.query_limits),
            graphql_ide="graphiql" if settings.graphiql else None,
        )
        self.sessions, self.plugins, self.persisted = sessions, plugins, persisted
        self.precedence = load_precedence(settings.precedence)
        secret = settings.secret_key.get_secret_value() if settings.secret_key else None
        self.authenticator = Authenticator(sessions, secret)

    @property
    def graphql_ide_html(self) -> str:
        # Strawberry's own page loads its assets from a CDN; ours, from this app.
        return graphiql_page()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and self.persisted.persisted_only:
            # The schema has no subscriptions: a WebSocket could only carry documents past
            # the list of persisted ones.
            await WebSocket(scope, receive, send).close(code=1008)
            return
        try:
            await super().__call__(scope, receive, send)
        except PersistedQueryError as error:
            await error.response()(scope, receive, send)

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        # A GET naming a persisted query by hash alone has no `query` but is no page visit.
        return super().should_render_graphql_ide(request) and (
            "extensions" not in request.query_params
        )

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        data = await super().parse_http_body(request)
        if isinstance(data, list):
            return [await self.persisted.resolve(item) for item in data]
        return await self.persisted.resolve(data)

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
    store = open_store(settings)

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
        await store.close()
        await engine.dispose()

    host = build_plugin_host(
        load_entry_points=settings.plugins_from_entry_points, only=settings.only_plugins
    )
    persisted = PersistedQueries(store, sessions, persisted_only=settings.persisted_only)
    graphql = GraphQLView(sessions, plugins=host.describe(), settings=settings, persisted=persisted)
    routes: list[BaseRoute] = [
        Route("/", home),
        Route("/graphql", graphql),
        WebSocketRoute("/graphql", graphql),
        Route("/healthz", healthz),
    ]
    if settings.graphiql:
        routes.append(graphiql_assets())
    # The rate limit goes first: a flood is turned away before its bodies are read.
    middleware = [Middleware(BodyLimit, max_bytes=settings.body_limit_bytes)]
    if settings.rate_limit:
        limits = Middleware(
            RateLimit,
            store=store,
            window_seconds=settings.rate_limit_window_seconds,
            per_address=settings.rate_limit_per_address,
            per_key=settings.rate_limit_per_key,
            trusted_proxies=settings.trusted_proxy_networks,
        )
        middleware.insert(0, limits)
    app = Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
    )
    app.state.engine = engine
    return app


def app_from_environment() -> Starlette:
    """The factory uvicorn calls in each worker: settings come from the environment."""
    return create_app(Settings())

"""GraphQL over HTTP as its spec (graphql.github.io/graphql-over-http) says, on Strawberry's view.

- The response is `application/graphql-response+json` when the client asks for it, and
  `application/json` otherwise (Accept absent or `*/*` too, as the spec's audit expects).
- Under graphql-response+json a request that never ran (it does not parse, validate or coerce
  its variables) is a 400 without `data`; under application/json it is a 200, as clients
  written before the new media type expect.
- A POST body is a JSON object in UTF-8 (else 415 for the media type, 400 for the body); a
  mutation by GET is a 405. Each refusal is a GraphQL-shaped error with a sentence.
"""

import json
import uuid
from collections.abc import Sequence
from typing import Any

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError, MissingQueryError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.base import BaseRequestProtocol
from strawberry.http.parse_content_type import parse_content_type
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from atmp_graph.api.auth import Authenticator, KeyRefused
from atmp_graph.api.compiled_answers import CompiledAnswers, replaying
from atmp_graph.api.graphiql import graphiql_page
from atmp_graph.api.live_updates import LiveUpdates
from atmp_graph.api.media_types import GRAPHQL_RESPONSE, JSON, response_media_type
from atmp_graph.api.observed_request import current_request
from atmp_graph.api.persisted import PersistedQueries, PersistedQueryError
from atmp_graph.api.request_id import request_id
from atmp_graph.api.settings import Settings
from atmp_graph.identity.precedence import load_precedence
from atmp_graph.ingest.curated_values import check_curated_values
from atmp_graph.plugins.manager import PluginInfo
from atmp_graph.schema.context import Context, IngestJobs
from atmp_graph.schema.db_errors import database_error
from atmp_graph.schema.errors import INTERNAL, mask_unexpected
from atmp_graph.schema.planner.compiled_reads import READ_PATH
from atmp_graph.schema.schema import build_schema

# Deeper than any variables our inputs take; Python's JSON parser itself gives up near 1,000.
MAX_JSON_DEPTH = 32
_TOO_DEEP = object()


class Refused(HTTPException):
    """A request refused before GraphQL ran, with the headers its status needs."""

    def __init__(self, status_code: int, reason: str, *, headers: dict[str, str]) -> None:
        super().__init__(status_code, reason)
        self.headers = headers


class Unavailable(Refused):
    """Who is asking could not be looked up: the database did not answer (a 503, with the
    sentence and code a field's database error gets)."""

    def __init__(self, reason: str, code: str) -> None:
        super().__init__(503, reason, headers={"Retry-After": "1"})
        self.code = code


class GraphQLView(GraphQL[Context, None]):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        plugins: Sequence[PluginInfo],
        settings: Settings,
        persisted: PersistedQueries,
        reads: AsyncEngine | None = None,
        live: LiveUpdates | None = None,
        jobs: IngestJobs | None = None,
    ) -> None:
        super().__init__(
            build_schema(settings.query_limits, compiled_reads=settings.compiled_reads),
            graphql_ide="graphiql" if settings.graphiql else None,
            # Strawberry refuses a cross-origin WebSocket handshake from any origin not listed.
            allowed_origins=settings.websocket_origins,
        )
        self.sessions, self.plugins, self.persisted = sessions, plugins, persisted
        self.reads, self.live, self.jobs = reads, live, jobs
        self.precedence = load_precedence(settings.precedence)
        secret = settings.secret_key.get_secret_value() if settings.secret_key else None
        self.authenticator = Authenticator(sessions, secret)
        # Persisted-only servers take no document by text, so none is answered by its text.
        self.answers = (
            CompiledAnswers(
                reads=reads,
                engine=sessions.kw["bind"],
                viewer_of=self.authenticator.viewer,
                timeout_seconds=settings.query_timeout,
            )
            if reads is not None and settings.compiled_reads and not persisted.persisted_only
            else None
        )

    def encode_json(self, data: object) -> str:
        # orjson writes a large answer several times faster than the json module; text, since
        # a WebSocket message of graphql-transport-ws must be a text frame.
        try:
            return orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS).decode()
        except TypeError:  # what orjson cannot write (an int past 64 bits, say)
            return json.dumps(data, separators=(",", ":"))

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
        except Exception as error:
            unavailable = database_error(error)
            if unavailable is None:
                raise
            raise Unavailable(*unavailable) from None
        record = current_request()
        if record is not None:
            record.viewer = viewer
        context = Context(
            sessions=self.sessions,
            reads=self.reads,
            plugins=self.plugins,
            request=request,
            precedence=self.precedence,
            viewer=viewer,
            secret=self.authenticator.secret,
            response=response,
            request_id=request_id(request.scope),
            check_curated=check_curated_values,
            live=self.live,
        )
        if self.jobs is not None:
            context.jobs = self.jobs
        return context

    async def on_ws_connect(self, context: Context) -> None:
        """A WebSocket client signs in with its key in connection_init's payload."""
        if context.viewer.role is not None:
            return  # the upgrade request's own Authorization header said who
        try:
            context.viewer = await self.authenticator.viewer_of_payload(context.connection_params)
        except KeyRefused as refused:
            raise ConnectionRejectionError({"message": str(refused)}) from None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and self.persisted.persisted_only:
            # Documents over a WebSocket are not looked up in the list of persisted ones, so
            # a persisted-only server takes none: no subscriptions there.
            await WebSocket(scope, receive, send).close(code=1008)
            return
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        if self.answers is not None and scope["method"] == "POST" and _json_body(request):
            body = await request.body()
            answered = await self.answers.answer(request, body)
            if answered is not None:
                await answered(scope, receive, send)
                return
            receive = replaying(body, receive)
            request = Request(scope, receive)
        try:
            response = await self.run(request)
        except PersistedQueryError as refusal:
            response = refusal.response()
        except HTTPException as refusal:
            record = current_request()
            if record is not None:
                record.errors.append((f"HTTP_{refusal.status_code}", refusal.reason))
            error: dict[str, Any] = {"message": refusal.reason}
            if isinstance(refusal, Unavailable):
                error["extensions"] = {"code": refusal.code}
            response = JSONResponse(
                {"errors": [error]},
                status_code=refusal.status_code,
                headers=getattr(refusal, "headers", None) or allowed_methods(refusal),
                media_type=response_media_type(request.headers.get("accept")),
            )
        await response(scope, receive, send)

    def _remember(
        self, request_data: GraphQLRequestData, context: Context, result: ExecutionResult
    ) -> None:
        """Keep a read the planner answered whole, to answer it again without the pipeline."""
        operation = context.planned
        if self.answers is None or operation is None or result.errors:
            return
        if request_data.extensions is not None:
            return
        body = {
            "query": request_data.query,
            "operationName": request_data.operation_name,
            "variables": request_data.variables,
        }
        key = self.answers.key_of(body, context.viewer.role)
        if key is not None:
            self.answers.remember(
                key, operation, dict(result.extensions or {}), name=context.operation_name
            )

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        # A GET naming a persisted query by hash alone has no `query` but is no page visit.
        return super().should_render_graphql_ide(request) and (
            "extensions" not in request.query_params
        )

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        sub_response = await super().get_sub_response(request)
        # Carried to create_response, which sees the sub-response but not the request.
        sub_response.media_type = response_media_type(request.headers.get("accept"))
        return sub_response

    def parse_json(self, data: str | bytes) -> Any:
        if isinstance(data, bytes):
            try:
                data = data.decode("utf-8")
            except UnicodeDecodeError:
                raise HTTPException(400, "The request body is not UTF-8 text.") from None
        try:
            value = json.loads(data)
        except json.JSONDecodeError:
            raise HTTPException(400, "The request's JSON does not parse.") from None
        except RecursionError:
            value = _TOO_DEEP
        if value is _TOO_DEEP or nesting_depth(value) > MAX_JSON_DEPTH:
            raise HTTPException(
                400, f"The request's JSON nests more than {MAX_JSON_DEPTH} levels deep."
            )
        return value

    async def parse_http_body(self, request: AsyncHTTPRequestAdapter) -> GraphQLRequestData:
        if request.method == "GET":
            data: Any = self.parse_query_params(request.query_params)
        else:
            content_type, params = parse_content_type(request.content_type or "")
            if content_type != JSON or params.get("charset", "utf-8").lower() != "utf-8":
                raise HTTPException(
                    415, "Send the request as JSON: Content-Type: application/json (UTF-8)."
                )
            data = self.parse_json(await request.get_body())
        if not isinstance(data, dict):
            raise HTTPException(
                400,
                "The request body must be a JSON object: a `query` string and, if need be, "
                "`variables`, `operationName` and `extensions`.",
            )
        return await self.persisted.resolve(request_data(data))

    async def execute_single(  # noqa: PLR0917 (Strawberry's signature)
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        allowed = OperationType.from_http(request_adapter.method)
        try:
            result = await self.schema.execute(
                request_data.query,
                variable_values=request_data.variables,
                context_value=context,
                root_value=root_value,
                operation_name=request_data.operation_name,
                allowed_operation_types=allowed,
                operation_extensions=request_data.extensions,
            )
            self._remember(request_data, context, result)
            record = current_request()
            if record is not None:
                record.operation_type = context.operation_type
                record.operation_name = context.operation_name
                record.read_path = (result.extensions or {}).get(READ_PATH)
            return result
        except CannotGetOperationTypeError as error:
            raise HTTPException(400, error.as_http_error_reason()) from None
        except InvalidOperationTypeError as error:
            if error.operation_type is OperationType.MUTATION:
                raise Refused(
                    405, "Mutations are sent by POST, not GET.", headers={"Allow": "POST"}
                ) from None
            raise HTTPException(400, error.as_http_error_reason(request_adapter.method)) from None
        except MissingQueryError:
            raise HTTPException(400, "The request has no GraphQL `query`.") from None

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        if result.errors:
            # MaskUnexpectedErrors cannot see an exception that ended the operation itself.
            rid = request_id(request.scope) or uuid.uuid4().hex
            result.errors = mask_unexpected(result.errors, rid)
            record = current_request()
            if record is not None:
                record.errors.extend(error_codes(result.errors))
        response = await super().process_result(request, result)
        if result.data is None and all(error.path is None for error in result.errors or ()):
            # GraphQL's own spec: a request error happens before execution, so there is no data.
            response.pop("data", None)
        return response

    def create_response(
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: Response
    ) -> Response:
        response = super().create_response(response_data, sub_response)
        media_type = sub_response.media_type or JSON
        response.headers["content-type"] = media_type
        if (
            media_type == GRAPHQL_RESPONSE
            and isinstance(response_data, dict)
            and "data" not in response_data
            and not sub_response.status_code
        ):
            response.status_code = 500 if failed_here(response_data) else 400
        return response


def _json_body(request: Request) -> bool:
    content_type, params = parse_content_type(request.headers.get("content-type") or "")
    return content_type == JSON and params.get("charset", "utf-8").lower() == "utf-8"


def request_data(data: dict[str, Any]) -> GraphQLRequestData:
    """The request's parameters, each checked for the JSON type the spec gives it."""
    expected = {"query": str, "operationName": str, "variables": dict, "extensions": dict}
    for name, kind in expected.items():
        if data.get(name) == "" and name in ("variables", "extensions"):
            data[name] = None  # a GET's empty parameter
        if data.get(name) is not None and not isinstance(data[name], kind):
            shape = "a string" if kind is str else "an object"
            raise HTTPException(400, f"`{name}` must be {shape} or null.")
    return GraphQLRequestData(
        query=data.get("query"),
        variables=data.get("variables"),
        operation_name=data.get("operationName"),
        extensions=data.get("extensions"),
        protocol="http",
    )


def error_codes(errors: Sequence[Any]) -> list[tuple[str, str]]:
    """Each error as the request's log line and metrics name it: its code (request errors,
    which have none, as BAD_REQUEST; field errors as FIELD_ERROR) and its message."""
    named = []
    for error in errors:
        code = (error.extensions or {}).get("code")
        if not isinstance(code, str):
            code = "BAD_REQUEST" if error.path is None else "FIELD_ERROR"
        named.append((code, error.message))
    return named


def failed_here(response: GraphQLHTTPResponse) -> bool:
    """Whether an error of the response is ours (masked) rather than the request's."""
    errors: Any = response.get("errors") or ()
    return any((error.get("extensions") or {}).get("code") == INTERNAL for error in errors)


def allowed_methods(refusal: HTTPException) -> dict[str, str] | None:
    # Strawberry refuses other methods with a 405 of its own, which must say what is allowed.
    return {"Allow": "GET, POST"} if refusal.status_code == 405 else None


def nesting_depth(value: Any) -> int:
    """How deep JSON arrays and objects nest in `value`, counted without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return deepest

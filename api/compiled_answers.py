"""Reads answered again without Strawberry: the same request, planned whole once, is SQL only.

The first time a query, with its operation name, variables and the caller's role, passes the
whole pipeline (parsing, validation, limits, the operation gate) and the read planner answers
every one of its root fields without an error, its plan and its extensions (the cost, the
read path) are remembered.  The same request again is answered from its statements alone
(on the planner's connections, or the requests' for a slow one), with the same extensions:
the document, its variables and the role are the same, so every check would decide as it
did.  Anything else, and anything that goes wrong here (a dead connection, the deadline), goes
the whole way, as every other request does.
"""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive

from atmp_graph.access.viewer import Viewer
from atmp_graph.api.media_types import response_media_type
from atmp_graph.api.observed_request import current_request
from atmp_graph.schema.memo import Memo
from atmp_graph.schema.planner.compiled_reads import (
    READ_PATH,
    CompiledOperation,
    answer_operation,
    frozen_variables,
)

Key = tuple[str, str | None, Any, bytes]  # query, operation name, role, variables


class CompiledAnswers:
    def __init__(
        self,
        *,
        reads: Any,
        engine: Any,
        viewer_of: Callable[[str | None], Awaitable[Viewer]],
        timeout_seconds: float,
    ) -> None:
        self.reads, self.engine = reads, engine
        self.viewer_of, self.timeout_seconds = viewer_of, timeout_seconds
        # A plan, its extensions, and its operation's name (for the request's log line).
        self._known: Memo[tuple[CompiledOperation, dict[str, Any], str | None]] = Memo(size=512)
        # The requests known for some role, so a request no role has sent costs no key lookup.
        self._texts: Memo[bool] = Memo(size=512)

    def remember(
        self,
        key: Key,
        operation: CompiledOperation,
        extensions: dict[str, Any],
        *,
        name: str | None = None,
    ) -> None:
        self._known.get(key, lambda: (operation, extensions, name))
        self._texts.get(key[:2] + key[3:], lambda: True)

    @staticmethod
    def key_of(body: Any, role: Any) -> Key | None:
        """The key of a request body that may be answered here: a query by text, no
        extensions (persisted queries go the whole way)."""
        if not isinstance(body, dict) or body.keys() - {"query", "operationName", "variables"}:
            return None
        query, name, variables = body.get("query"), body.get("operationName"), body.get("variables")
        if not isinstance(query, str) or not isinstance(name, str | None):
            return None
        if not isinstance(variables, dict | None):
            return None
        frozen = frozen_variables(variables)
        return None if frozen is None else (query, name, role, frozen)

    async def answer(self, request: Request, body: bytes) -> Response | None:
        """The response to a request known here, or None: let the pipeline answer it."""
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError:
            return None
        key = self.key_of(parsed, None)
        if key is None or self._texts.peek(key[:2] + key[3:]) is None:
            return None
        try:
            viewer = await self.viewer_of(request.headers.get("authorization"))
        except Exception:  # a refused key: the pipeline says why
            return None
        known = self._known.peek((key[0], key[1], viewer.role, key[3]))
        if known is None:
            return None
        operation, extensions, name = known
        try:
            async with asyncio.timeout(self.timeout_seconds):
                data = await answer_operation(operation, reads=self.reads, engine=self.engine)
        except Exception:
            return None
        record = current_request()
        if record is not None:
            record.viewer, record.operation_type, record.operation_name = viewer, "query", name
            record.read_path = extensions.get(READ_PATH)
        content = orjson.dumps({"data": data, "extensions": extensions})
        media_type = response_media_type(request.headers.get("accept"))
        return Response(content, media_type=media_type)


def replaying(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands over `body` (already read) first, then what `receive` gets."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay

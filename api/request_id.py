"""Every request gets an id: in `X-Request-Id`, in masked errors, and in the log beside them.

An exception nothing else caught is logged under that id, and the client gets a 500 with the id
and no text of the exception.
"""

import json
import logging
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger("atmp_graph.errors")

HEADER = "X-Request-Id"


def request_id(scope: Scope) -> str | None:
    """The id `RequestIdMiddleware` gave this request (None outside it)."""
    found = scope.get("state", {}).get("request_id")
    return None if found is None else str(found)


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        rid = uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] in ("http.response.start", "websocket.accept"):
                started = True
                if message["type"] == "http.response.start":
                    headers = list(message.get("headers", []))
                    headers.append((HEADER.lower().encode(), rid.encode()))
                    message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            logger.exception("request %s: %s %s failed", rid, scope.get("method"), scope["path"])
            if started or scope["type"] != "http":
                raise
            body = json.dumps(
                {"errors": [{"message": "Unexpected error.", "extensions": {"requestId": rid}}]}
            ).encode()
            await send_with_id(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})

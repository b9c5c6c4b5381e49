"""CORS for pages on other origins (ATMP_CORS_ORIGINS), by Starlette's CORSMiddleware.

Only a request from a listed origin meets the middleware: it answers that origin's preflight
and marks its responses readable by it. A request from any other origin passes by it and gets
no Access-Control-* header at all (not even the methods and headers a listed one may use),
so its browser keeps the answer from the page. Every response says `Vary: Origin`, so a cache
never hands one origin's answer to another. WebSockets are not CORS's business: the origins
listed here may also open one (api/graphql_view.py), as those of ATMP_ALLOWED_ORIGINS may.
"""

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["ALLOWED_HEADERS", "ALLOWED_METHODS", "EXPOSED_HEADERS", "Cors"]

ALLOWED_METHODS = ("GET", "POST", "OPTIONS")
# A key in Authorization, a JSON body; Accept and Content-Type's simple values need no asking.
ALLOWED_HEADERS = ("Authorization", "Content-Type")
# What a page may read of a response besides the safelisted headers.
EXPOSED_HEADERS = ("X-Request-Id", "Retry-After")


class Cors:
    def __init__(self, app: ASGIApp, *, origins: list[str], max_age_seconds: int) -> None:
        self.app = app
        self.any_origin = "*" in origins
        self.origins = frozenset(origins)
        self.cors = CORSMiddleware(
            app,
            allow_origins=origins,
            allow_methods=ALLOWED_METHODS,
            allow_headers=ALLOWED_HEADERS,
            expose_headers=EXPOSED_HEADERS,
            max_age=max_age_seconds,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        origin = Headers(scope=scope).get("origin")
        if origin is not None and (self.any_origin or origin in self.origins):
            await self.cors(scope, receive, send)
            return

        async def varying_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                headers = MutableHeaders(scope=message)
                if "origin" not in headers.get("vary", "").lower():
                    headers.append("Vary", "Origin")
            await send(message)

        await self.app(scope, receive, varying_send)

"""Requests per client address and per API key, in fixed windows, answered 429 past a limit.

Windows are aligned to the clock (window n runs from n × length to (n + 1) × length seconds
after the epoch), so every worker counting into the shared store agrees on which window a
request falls in.  A request counts against its address and, if it bears a token, against
that key too: a made-up token does not buy a fresh allowance.

The client address is the socket peer's, unless that peer is a trusted proxy: then it is the
nearest address in X-Forwarded-For that is not itself a trusted proxy.
"""

import hashlib
import ipaddress
import math
import time
from collections.abc import Callable, Sequence

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from atmp_graph.api.shared_store import SharedStore

__all__ = ["RateLimit", "bearer_key", "client_address"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# Paths a load balancer polls: limiting them would take a busy node out of rotation.
UNLIMITED_PATHS = frozenset({"/healthz", "/readyz"})


def bearer_key(authorization: str | None) -> str | None:
    """The rate-limit key of a request: the SHA-256 of its bearer token, if it has one.

    API keys will replace this (a key's id instead of a hash of whatever was sent); hashing
    keeps tokens out of the shared store.
    """
    if authorization is None:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return hashlib.sha256(token.strip().encode("utf-8")).hexdigest()


def _is_trusted(address: str, proxies: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def client_address(
    peer: str | None, forwarded_for: str | None, *, trusted_proxies: Sequence[Network]
) -> str:
    """Who sent the request: the peer, or what trusted proxies in front of us say it is."""
    address = peer or "unknown"
    if forwarded_for is None or not _is_trusted(address, trusted_proxies):
        return address
    # Each proxy appends the address it heard from: read from the right, past our own proxies.
    for hop in reversed([hop.strip() for hop in forwarded_for.split(",") if hop.strip()]):
        address = hop
        if not _is_trusted(hop, trusted_proxies):
            break
    return address


class RateLimit:
    def __init__(
        self,
        app: ASGIApp,
        *,
        store: SharedStore,
        window_seconds: int,
        per_address: int,
        per_key: int,
        trusted_proxies: Sequence[Network] = (),
        key_of: Callable[[str | None], str | None] = bearer_key,
    ) -> None:
        self.app, self.store, self.window_seconds = app, store, window_seconds
        self.per_address, self.per_key = per_address, per_key
        self.trusted_proxies, self.key_of = list(trusted_proxies), key_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # A WebSocket counts once, at its handshake.
        if scope["type"] not in ("http", "websocket") or scope["path"] in UNLIMITED_PATHS:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        peer = scope["client"][0] if scope.get("client") else None
        # A proxy may add its own header line rather than extend the first: read them all.
        forwarded_for = ", ".join(headers.getlist("x-forwarded-for")) or None
        address = client_address(peer, forwarded_for, trusted_proxies=self.trusted_proxies)
        now = time.time()
        window = int(now // self.window_seconds)
        retry_after = max(1, math.ceil((window + 1) * self.window_seconds - now))
        counters = [(f"address:{address}", self.per_address, "this address")]
        if (key := self.key_of(headers.get("authorization"))) is not None:
            counters.append((f"key:{key}", self.per_key, "this API key"))
        for counter, limit, whose in counters:
            count = await self.store.increment(
                f"rate:{counter}:{window}", ttl_seconds=self.window_seconds + 1
            )
            if count > limit:
                if scope["type"] == "websocket":
                    # Before the handshake is accepted, a close is its refusal (HTTP 403).
                    await WebSocket(scope, receive, send).close(code=1013)  # try again later
                else:
                    await self._refuse(whose, limit, retry_after)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _refuse(self, whose: str, limit: int, retry_after: int) -> JSONResponse:
        message = (
            f"too many requests from {whose}: at most {limit} every {self.window_seconds} "
            f"seconds; try again in {retry_after} seconds"
        )
        extensions = {"code": "RATE_LIMITED", "retryAfter": retry_after}
        return JSONResponse(
            {"errors": [{"message": message, "extensions": extensions}]},
            status_code=429,
            headers={"Retry-After": str(retry_after)},
        )

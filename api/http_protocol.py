"""uvicorn's httptools protocol, with a response's head and body written to the socket at once.

uvicorn writes a response's status line and headers, then its body, each straight to the
socket: two system calls and two TCP segments for every small answer, and the kernel's share
of them was the largest part of the server's time on the peer benchmark's small question
(README, "Against PostGraphile").  Here the protocol's writes wait until the event loop's
current step is over (Starlette sends the head and the body in one step), or until they add
up to `FLUSH_AT` bytes, and then go out in one call (one `writev`).  A WebSocket gets the
socket itself.
"""

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# How uvicorn is told to use it (`--http`; `atmp-graph serve` and the benchmarks do).
HTTP_PROTOCOL = "atmp_graph.api.http_protocol:OneWriteHttpToolsProtocol"
# Beyond this the writes go out at once, so a large streamed answer meets the socket's
# back-pressure as it would without the gathering.
FLUSH_AT = 64 * 1024


class GatheredWrites:
    """A transport whose writes are gathered and sent in one call when the loop's step ends."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self.transport, self._loop = transport, loop
        self._pending: list[bytes] = []
        self._size = 0

    def write(self, data: bytes) -> None:
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(data)
        self._size += len(data)
        if self._size >= FLUSH_AT:
            self.flush()

    def flush(self) -> None:
        if not self._pending:
            return
        pending, self._pending, self._size = self._pending, [], 0
        if not self.transport.is_closing():
            # uvloop sends a list in one writev, without joining it first.
            self.transport.writelines(pending)

    def close(self) -> None:
        self.flush()
        self.transport.close()

    def __getattr__(self, name: str) -> Any:
        # Reading, pausing, extra info: the transport's own.
        return getattr(self.transport, name)


class OneWriteHttpToolsProtocol(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(GatheredWrites(transport, self.loop))  # type: ignore[arg-type]

    def handle_websocket_upgrade(self) -> None:
        gathered = self.transport
        if isinstance(gathered, GatheredWrites):
            gathered.flush()
            self.transport = gathered.transport
        super().handle_websocket_upgrade()

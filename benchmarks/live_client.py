"""A graphql-transport-ws client, by hand over `websockets`: what a subscriber sends and reads
(the live-update tests and the load-and-faults benchmark both subscribe through it)."""

import asyncio
import itertools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import websockets

# Long enough for a poll interval and a loaded machine; only a broken server waits this long.
PATIENCE_SECONDS = 60

CHANGES = """
subscription Changes($types: [EntityType!], $institution: ID, $feed: String, $after: Int) {
  graphChanges(types: $types, institution: $institution, feed: $feed, after: $after) {
    sequence kind entityType nodeId feed runId institutionId
    changes { field old new }
    report { status read created }
  }
}
"""


class Connection:
    def __init__(self, socket: Any) -> None:
        self.socket = socket
        self.ids = itertools.count(1)

    async def subscribe(self, query: str, **variables: Any) -> str:
        operation = str(next(self.ids))
        payload = {"query": query, "variables": variables}
        await self.socket.send(
            json.dumps({"id": operation, "type": "subscribe", "payload": payload})
        )
        return operation

    async def message(self) -> dict[str, Any]:
        """The next message other than a ping (answered)."""
        while True:
            raw = await asyncio.wait_for(self.socket.recv(), PATIENCE_SECONDS)
            message: dict[str, Any] = json.loads(raw)
            if message["type"] == "ping":
                await self.socket.send(json.dumps({"type": "pong"}))
                continue
            return message

    async def events(self, count: int) -> list[dict[str, Any]]:
        """The next `count` events of any subscription, each with its subscription's id."""
        found: list[dict[str, Any]] = []
        while len(found) < count:
            message = await self.message()
            assert message["type"] == "next", message
            assert "errors" not in message["payload"], message["payload"]
            found.append({"id": message["id"], **message["payload"]["data"]["graphChanges"]})
        return found

    async def until(self, kind: str) -> list[dict[str, Any]]:
        """Events up to and with the first of `kind`."""
        found: list[dict[str, Any]] = []
        while not found or found[-1]["kind"] != kind:
            found += await self.events(1)
        return found

    async def complete(self, operation: str) -> None:
        await self.socket.send(json.dumps({"id": operation, "type": "complete"}))


@asynccontextmanager
async def connected(base: str, token: str | None = None) -> AsyncIterator[Connection]:
    """A signed-in (or anonymous) graphql-transport-ws connection to `base`/graphql."""
    url = base.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
        payload = {"Authorization": f"Bearer {token}"} if token else {}
        await socket.send(json.dumps({"type": "connection_init", "payload": payload}))
        connection = Connection(socket)
        ack = await connection.message()
        assert ack["type"] == "connection_ack", ack
        yield connection

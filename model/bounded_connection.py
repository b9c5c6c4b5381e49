"""A psycopg connection that gives up on a server that stops answering.

The statement timeout makes a working server end a slow query, and the connect timeout bounds
opening a connection; neither helps once a pooled connection talks to a server that is frozen
(a stopped process, a paused VM): the kernel still accepts the bytes, so TCP keepalives see a
healthy peer, and the query waits for an answer that never comes.  Every network round trip
of a psycopg connection goes through `AsyncConnection.wait`, so bounding it there bounds all of
them: queries, fetches, commits, rollbacks and the pool's pre-ping.
"""

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import psycopg
from psycopg.abc import PQGen
from psycopg.errors import _WaitTimeout

ANSWER = TypeVar("ANSWER")


class ServerSilent(psycopg.OperationalError):
    """The server took no notice of a request for longer than the connection allows."""


class BoundedConnection(psycopg.AsyncConnection[Any]):
    """An `AsyncConnection` whose every wait for the server ends after `answer_seconds`.

    The connection is closed when a wait expires: it is in the middle of a protocol exchange
    and cannot be used again, and a closed connection is what tells SQLAlchemy's pool to throw
    it away (and, with pre-ping, to try a fresh one).
    """

    answer_seconds: float | None = None

    async def wait(
        self, gen: PQGen[ANSWER], interval: float = 0.1, timeout: float | None = None
    ) -> ANSWER:
        bound = timeout if timeout is not None else self.answer_seconds
        try:
            return await super().wait(gen, interval=interval, timeout=bound)
        except _WaitTimeout as error:
            self.pgconn.finish()
            raise ServerSilent(f"the server did not answer within {bound:g} s") from error


def bounded_connector(
    conninfo: str, *, answer_seconds: float | None
) -> Callable[[], Awaitable[BoundedConnection]]:
    """An `async_creator` for SQLAlchemy that opens `BoundedConnection`s to `conninfo`."""

    async def connect() -> BoundedConnection:
        # psycopg applies the conninfo's connect_timeout to the whole handshake itself.
        connection = await BoundedConnection.connect(conninfo)
        connection.answer_seconds = answer_seconds
        return connection

    return connect

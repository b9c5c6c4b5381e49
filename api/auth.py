"""Who is asking: the API key in `Authorization: Bearer ...` (or a WebSocket's
connection_init payload) makes the request's viewer; no header, an anonymous one.

A key that is wrong, malformed, expired or revoked is refused with HTTP 401 and one sentence:
never taken as anonymous, so a client with a broken key finds out at once.
"""

from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from atmp_graph.access.keys import (
    KeyRefused,
    bearer_token,
    key_statement,
    secret_statement,
    viewer_of,
)
from atmp_graph.access.viewer import ANONYMOUS, Viewer


class Authenticator:
    """Finds the viewer of each request; knows the server secret after its first lookup."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], secret: str | None) -> None:
        self.sessions, self._secret = sessions, secret

    async def secret(self) -> str:
        if self._secret is None:
            async with self.sessions() as session:
                stored = await session.scalar(secret_statement())
            if stored is None:
                raise RuntimeError("the database has no server secret: run `atmp-graph migrate`")
            self._secret = stored
        return self._secret

    async def viewer(self, authorization: str | None) -> Viewer:
        """The viewer an `Authorization` header value makes; KeyRefused says why not."""
        if authorization is None or not authorization.strip():
            return ANONYMOUS
        token = bearer_token(authorization)
        statement = key_statement(await self.secret(), token)
        async with self.sessions() as session:
            key = await session.scalar(statement)
        return viewer_of(key)

    async def viewer_of_payload(self, payload: Mapping[str, object] | None) -> Viewer:
        """The viewer of a graphql-transport-ws connection_init payload's `Authorization`."""
        value = (payload or {}).get("Authorization") or (payload or {}).get("authorization")
        if value is not None and not isinstance(value, str):
            raise KeyRefused("the connection_init payload's Authorization must be a string")
        return await self.viewer(value)


__all__ = ["Authenticator", "KeyRefused"]

"""Persisted queries: Apollo's automatic persisted queries (APQ), and a persisted-only mode.

APQ: a client sends `extensions.persistedQuery = {version: 1, sha256Hash}`.  Without the
query, an unknown hash answers `PersistedQueryNotFound`, and the client sends the query with
its hash once; the server checks the hash and keeps the document in the shared store, so every
worker runs the hash alone from then on.

Persisted-only (ATMP_PERSISTED_ONLY): only documents an administrator registered with
`atmp-graph persisted add` run, whether the request names them by hash or sends their text;
the registered documents live in the database (model/persisted.py) and nothing a client sends
is remembered.
"""

import dataclasses
import hashlib
import re
from collections.abc import Iterable
from typing import Any

from graphql import GraphQLSyntaxError, parse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session
from starlette.responses import JSONResponse
from strawberry.http import GraphQLRequestData

from atmp_graph.api.shared_store import SharedStore
from atmp_graph.model import PersistedDocument

__all__ = [
    "PersistedQueries",
    "PersistedQueryError",
    "document_hash",
    "register_documents",
]

# A document a client registered stays this long after it was last registered.
APQ_TTL_SECONDS = 7 * 24 * 3600
SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def document_hash(document: str) -> str:
    """What APQ clients send: the SHA-256 of the document's exact text, in hex."""
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


class PersistedQueryError(Exception):
    """A persisted-query request refused, answered as a GraphQL error body."""

    def __init__(self, message: str, *, code: str, status_code: int = 400) -> None:
        super().__init__(message)
        self.message, self.code, self.status_code = message, code, status_code

    def response(self) -> JSONResponse:
        body = {"errors": [{"message": self.message, "extensions": {"code": self.code}}]}
        return JSONResponse(body, status_code=self.status_code)


# Apollo clients retry with the full query on exactly this message or code; a 400 would make
# them give up persisted queries altogether, so it is a 200 like any GraphQL error.
NOT_FOUND = PersistedQueryError(
    "PersistedQueryNotFound", code="PERSISTED_QUERY_NOT_FOUND", status_code=200
)
NOT_IN_LIST = PersistedQueryError(
    "this server runs only persisted documents, and this one is not registered: an "
    "administrator registers it with `atmp-graph persisted add`",
    code="PERSISTED_QUERY_NOT_IN_LIST",
)
HASH_MISMATCH = PersistedQueryError("provided sha does not match query", code="BAD_REQUEST")


def _requested_hash(extensions: dict[str, Any] | None) -> str | None:
    """The sha256Hash of a well-formed `persistedQuery` extension, or None if there is none."""
    extension = (extensions or {}).get("persistedQuery")
    if extension is None:
        return None
    if not isinstance(extension, dict) or extension.get("version") != 1:
        raise PersistedQueryError(
            "Unsupported persisted query version: extensions.persistedQuery.version must be 1",
            code="PERSISTED_QUERY_NOT_SUPPORTED",
        )
    sha = extension.get("sha256Hash")
    if not isinstance(sha, str) or not SHA256_HEX.fullmatch(sha.lower()):
        raise PersistedQueryError(
            "extensions.persistedQuery.sha256Hash must be a SHA-256 hash in hex (64 digits)",
            code="BAD_REQUEST",
        )
    return sha.lower()


class PersistedQueries:
    """Fills in, checks and remembers the documents of requests, as the settings say."""

    def __init__(
        self,
        store: SharedStore,
        sessions: async_sessionmaker[AsyncSession],
        *,
        persisted_only: bool,
    ) -> None:
        self.store, self.sessions, self.persisted_only = store, sessions, persisted_only
        # Registered documents never change under their hash: a hit can be kept for good.
        self._registered: dict[str, str] = {}

    async def resolve(self, request: GraphQLRequestData) -> GraphQLRequestData:
        """The request with its document, or PersistedQueryError saying why not."""
        sha = _requested_hash(request.extensions)
        if sha is None:
            if self.persisted_only and request.query is not None:
                await self._require_registered(document_hash(request.query))
            return request
        if request.query is None:
            # What clients registered first: the database is asked only when that misses.
            document = None if self.persisted_only else await self.store.get(f"apq:{sha}")
            if document is None:
                document = await self._registered_document(sha)
            if document is None:
                raise NOT_IN_LIST if self.persisted_only else NOT_FOUND
            return dataclasses.replace(request, query=document)
        if document_hash(request.query) != sha:
            raise HASH_MISMATCH
        if self.persisted_only:
            await self._require_registered(sha)
        elif _parses(request.query):
            # Only documents that parse: the store is not a place to park arbitrary text.
            await self.store.put(f"apq:{sha}", request.query, ttl_seconds=APQ_TTL_SECONDS)
        return request

    async def _require_registered(self, sha: str) -> None:
        if await self._registered_document(sha) is None:
            raise NOT_IN_LIST

    async def _registered_document(self, sha: str) -> str | None:
        if sha in self._registered:
            return self._registered[sha]
        async with self.sessions() as session:
            document = await session.scalar(
                select(PersistedDocument.document).where(PersistedDocument.sha256 == sha)
            )
        if document is not None:
            self._registered[sha] = document
        return document


def _parses(document: str) -> bool:
    try:
        parse(document)
    except GraphQLSyntaxError:
        return False
    return True


def register_documents(
    session: Session, documents: Iterable[tuple[str, str]]
) -> list[tuple[str, str, bool]]:
    """Store each (source, document); returns (hash, source, is_new) for each, in order."""
    registered = []
    for source, document in documents:
        sha = document_hash(document)
        is_new = session.get(PersistedDocument, sha) is None
        if is_new:
            session.add(PersistedDocument(sha256=sha, document=document, source=source))
            session.flush()
        registered.append((sha, source, is_new))
    return registered

"""The request body limit: a body over it is answered 413 with a sentence, a declared one
before a byte is read, a streamed one as soon as it passes the limit."""

import asyncio
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from starlette.testclient import TestClient
from starlette.types import Message

from atmp_graph.api.app import create_app
from atmp_graph.api.settings import Settings
from tests.api.conftest import body
from tests.live_server import serving

COMMAND = str(Path(sys.executable).with_name("atmp-graph"))
LIMIT = 1000
TOO_LARGE = {
    "errors": [
        {
            "message": f"the request body is larger than this server accepts ({LIMIT} bytes)",
            "extensions": {"code": "PAYLOAD_TOO_LARGE"},
        }
    ]
}


def body_of(size: int) -> bytes:
    """A GraphQL request exactly `size` bytes long (padded with JSON whitespace)."""
    body = json.dumps({"query": "{ __typename }"}).encode()
    return body[:-1] + b" " * (size - len(body)) + b"}"


@pytest.mark.parametrize(("size", "status"), [(LIMIT, 200), (LIMIT + 1, 413)])
def test_bodies_up_to_the_limit_pass(demo_database_url: str, size: int, status: int) -> None:
    settings = Settings(database_url=demo_database_url, body_limit_bytes=LIMIT)
    with TestClient(create_app(settings)) as client:
        response = client.post(
            "/graphql", content=body_of(size), headers={"Content-Type": "application/json"}
        )

    assert response.status_code == status
    assert body(response) == ({"data": {"__typename": "Query"}} if status == 200 else TOO_LARGE)


def call(app: Any, headers: list[tuple[bytes, bytes]], chunks: list[bytes]) -> dict[str, Any]:
    """Drive the app as a server would, handing it `chunks` as it asks; what it sent back,
    and how many chunks it asked for."""
    asked = 0
    sent: list[Message] = []

    async def receive() -> Message:
        nonlocal asked
        asked += 1
        chunk = chunks[asked - 1]
        return {"type": "http.request", "body": chunk, "more_body": asked < len(chunks)}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/graphql", "raw_path": b"/graphql", "query_string": b"",
        "root_path": "", "headers": [(b"content-type", b"application/json"), *headers],
        "client": ("192.0.2.1", 40000), "server": ("127.0.0.1", 8000),
    }  # fmt: skip
    asyncio.run(app(scope, receive, send))
    body = b"".join(message.get("body", b"") for message in sent[1:])
    return {"status": sent[0]["status"], "body": json.loads(body), "chunks asked": asked}


@pytest.fixture
def app(demo_database_url: str) -> Iterator[Any]:
    app = create_app(Settings(database_url=demo_database_url, body_limit_bytes=LIMIT))
    yield app
    asyncio.run(app.state.engine.dispose())


def test_a_declared_length_over_the_limit_is_refused_unread(app: Any) -> None:
    answer = call(app, [(b"content-length", b"5000")], [body_of(5000)])

    assert answer == {"status": 413, "body": TOO_LARGE, "chunks asked": 0}


def test_a_streamed_body_is_refused_as_soon_as_it_passes_the_limit(app: Any) -> None:
    body = body_of(4000)
    chunks = [body[start : start + 400] for start in range(0, len(body), 400)]

    answer = call(app, [(b"transfer-encoding", b"chunked")], chunks)

    # 400, 800, then 1200 bytes: the third chunk passes the limit, the other seven stay unread.
    assert answer == {"status": 413, "body": TOO_LARGE, "chunks asked": 3}


def test_a_live_server_refuses_large_bodies_declared_and_chunked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATMP_BODY_LIMIT_BYTES", str(LIMIT))
    headers = {"Content-Type": "application/json"}

    def chunked() -> Iterator[bytes]:
        body = body_of(3000)
        yield from (body[start : start + 500] for start in range(0, len(body), 500))

    with serving(COMMAND, cwd=tmp_path) as base, httpx2.Client(base_url=base) as http:
        small = http.post("/graphql", content=body_of(200), headers=headers)
        declared = http.post("/graphql", content=body_of(3000), headers=headers)
        streamed = http.post("/graphql", content=chunked(), headers=headers)

    assert (small.status_code, body(small)) == (200, {"data": {"__typename": "Query"}})
    assert "content-length" in declared.request.headers
    assert (declared.status_code, body(declared)) == (413, TOO_LARGE)
    assert streamed.request.headers["transfer-encoding"] == "chunked"
    assert (streamed.status_code, body(streamed)) == (413, TOO_LARGE)

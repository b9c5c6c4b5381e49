"""The server writes a small response in one piece (api/http_protocol.py), and every kind of
response still arrives whole over one kept-alive connection to a live `atmp-graph serve`."""

import asyncio
import http.client
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from atmp_graph.api.graphiql import ASSETS, ASSETS_ROUTE
from atmp_graph.api.http_protocol import FLUSH_AT, GatheredWrites
from tests.live_server import serving

COMMAND = str(Path(sys.executable).with_name("atmp-graph"))
HEAD, BODY = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n", b"{}"


class Socket(asyncio.Transport):
    """What reaches the socket, one item per call."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[bytes] = []
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.calls.append(bytes(data))

    def writelines(self, list_of_data: Any) -> None:
        self.calls.append(b"".join(list_of_data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed


async def _written(*pieces: bytes, then_close: bool = False) -> tuple[list[bytes], list[bytes]]:
    """What the socket had when the writes were made, and after the loop's step."""
    socket = Socket()
    gathered = GatheredWrites(socket, asyncio.get_running_loop())
    for piece in pieces:
        gathered.write(piece)
    during = list(socket.calls)
    if then_close:
        gathered.close()
    await asyncio.sleep(0)
    return during, socket.calls


def test_a_response_written_in_one_step_reaches_the_socket_in_one_call() -> None:
    during, after = asyncio.run(_written(HEAD, BODY))
    assert (during, after) == ([], [HEAD + BODY])


def test_a_large_answer_goes_out_as_it_grows_not_at_the_end() -> None:
    chunk = b"x" * (FLUSH_AT // 2)
    during, after = asyncio.run(_written(HEAD, chunk, chunk, b"tail"))
    assert during == [HEAD + chunk + chunk]
    assert after == [HEAD + chunk + chunk, b"tail"]


def test_closing_sends_what_waits_first() -> None:
    during, after = asyncio.run(_written(HEAD, BODY, then_close=True))
    assert (during, after) == ([], [HEAD + BODY])


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serving(COMMAND, "--demo", cwd=tmp_path_factory.mktemp("protocol")) as base:
        yield base


def test_one_kept_alive_connection_gets_every_kind_of_response_whole(live_server: str) -> None:
    address = urlsplit(live_server)
    assert address.hostname is not None
    assert address.port is not None
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    query = json.dumps({"query": "{ trials(first: 3) { edges { node { title } } } }"})
    stylesheet = ASSETS / "graphiql" / "graphiql.min.css"
    assert stylesheet.stat().st_size > 4 * FLUSH_AT
    seen = []
    for method, path, body in [
        ("POST", "/graphql", query),
        ("GET", f"{ASSETS_ROUTE}/graphiql/graphiql.min.css", None),
        ("HEAD", "/graphql", None),
        ("GET", "/", None),
        ("POST", "/graphql", query),
    ]:
        headers = {"Content-Type": "application/json"} if body else {}
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        seen.append((method, path, response.status, response.read()))
    connection.close()

    (_, _, status, first), css, head, home, (_, _, again, last) = seen
    assert (status, again) == (200, 200)
    assert len(json.loads(first)["data"]["trials"]["edges"]) == 3
    assert last == first
    assert css[2:] == (200, stylesheet.read_bytes())
    assert head[3] == b""
    assert home[2] in {302, 307}

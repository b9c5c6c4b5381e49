"""A bounded load of GraphQL requests and of subscribers, and what each one saw.

Clients send the README's example queries (examples/queries: lists, a search, a dashboard, the
review queue) in turn, each waiting for its answer before the next; every answer is kept as a
sample: when it was asked, how long it took, and what went wrong if anything did.  Subscribers
follow `graphChanges` and resume after the last sequence they saw whenever the server tells
them of a failure or their connection ends.
"""

import asyncio
import json
import re
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import websockets

from benchmarks.live_client import CHANGES, connected

QUERIES = sorted((Path(__file__).parents[1] / "examples" / "queries").glob("*.graphql"))
# Past the server's own limits (a free connection within 5 s, a statement within 10 s): a
# request still unanswered then has hung.
REQUEST_SECONDS = 30
# What an answer must never show a client: a driver's, SQLAlchemy's or Python's own words.
INTERNALS = re.compile(r"psycopg|sqlalchemy|sqlite3|redis\.|Traceback|SELECT |\.py\b", re.I)


@dataclass(frozen=True)
class Sample:
    asked: float  # time.monotonic() when sent
    seconds: float
    failure: str | None  # None: a full answer without errors

    @property
    def answered(self) -> float:
        return self.asked + self.seconds


def failure_of(response: httpx2.Response) -> str | None:
    """None for an answer without errors; else what a client was told, as CODE: message."""
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code} without a GraphQL answer"
    errors = body.get("errors") if isinstance(body, dict) else None
    if response.status_code == 200 and not errors:
        return None
    if not errors:
        return f"HTTP {response.status_code} without errors"
    return told(errors)


def told(errors: list[dict[str, Any]]) -> str:
    """What GraphQL errors tell a client, as CODE: message (of the first)."""
    first = errors[0]
    return f"{(first.get('extensions') or {}).get('code', 'NO CODE')}: {first.get('message')}"


def is_clear(failure: str) -> bool:
    """A GraphQL error with a code and words meant for the client."""
    code = failure.partition(":")[0]
    return code.isupper() and code != "NO CODE" and not INTERNALS.search(failure)


async def _client(
    http: httpx2.AsyncClient, url: str, number: int, until: float, samples: list[Sample]
) -> None:
    turn = number
    while (asked := time.monotonic()) < until:
        query = QUERIES[turn % len(QUERIES)].read_text(encoding="utf-8")
        turn += 1
        try:
            response = await http.post(url, json={"query": query})
            failure = failure_of(response)
        except httpx2.HTTPError as error:
            failure = f"TRANSPORT: {type(error).__name__}"
        samples.append(Sample(asked, time.monotonic() - asked, failure))


async def load(base: str, token: str, *, clients: int, seconds: float) -> list[Sample]:
    """`clients` clients asking in turn for `seconds`; every answer's sample."""
    samples: list[Sample] = []
    until = time.monotonic() + seconds
    limits = httpx2.Limits(max_connections=clients, max_keepalive_connections=clients)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx2.AsyncClient(headers=headers, limits=limits, timeout=REQUEST_SECONDS) as http:
        await asyncio.gather(
            *(_client(http, f"{base}/graphql", n, until, samples) for n in range(clients))
        )
    return samples


def percentile(values: list[float], fraction: float) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[round(fraction * 100) - 1]


@dataclass
class Subscriber:
    """One graphChanges subscription that resumes after the last sequence it saw."""

    base: str
    token: str
    after: int
    sequences: list[int] = field(default_factory=list)
    told: list[str] = field(default_factory=list)  # errors the server sent
    closed: list[str] = field(default_factory=list)  # connections that ended, and why

    @property
    def last(self) -> int:
        return self.sequences[-1] if self.sequences else self.after

    stopping: bool = False

    async def follow(self) -> None:
        """Until `stopping` (looked at after each message: Python 3.11's wait_for may swallow
        a cancellation that meets a message arriving)."""
        while not self.stopping:
            try:
                async with connected(self.base, self.token) as connection:
                    await connection.subscribe(CHANGES, after=self.last)
                    while not self.stopping and await self._next(connection.message):
                        pass
            except (websockets.ConnectionClosed, OSError, TimeoutError, AssertionError) as error:
                self.closed.append(_why_closed(error))
            await asyncio.sleep(0.2)

    async def _next(self, message: Any) -> bool:
        """Take the next message; False when the subscription has ended."""
        received = await message()
        payload = received.get("payload")
        if received["type"] == "next" and not payload.get("errors"):
            self.sequences.append(payload["data"]["graphChanges"]["sequence"])
            return True
        # "next" carries {data, errors}; "error" the list itself; "complete" nothing.
        errors = payload.get("errors") if isinstance(payload, dict) else payload
        self.told.append(told(errors) if errors else json.dumps(received))
        return False


def _why_closed(error: Exception) -> str:
    if isinstance(error, websockets.ConnectionClosed):
        close = error.rcvd
        return f"closed {close.code} {close.reason}" if close else "closed without a close frame"
    return type(error).__name__

"""Redis for the tests of what workers share (`redis_settings`, in tests/conftest.py: each test
its own key prefix, deleted after), and live servers' workers."""

import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
import redis
from starlette.applications import Starlette
from starlette.testclient import TestClient


@pytest.fixture(params=["memory", "redis"])
def store_settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Each store in turn: this process's own, and Redis."""
    if request.param == "memory":
        return {}
    settings: dict[str, Any] = request.getfixturevalue("redis_settings")
    return settings


def redis_keys(settings: dict[str, Any]) -> list[str]:
    """The keys under a test's prefix, without it."""
    with redis.Redis.from_url(settings["redis_url"], decode_responses=True) as client:
        prefix = settings["redis_prefix"]
        return sorted(key.removeprefix(prefix) for key in client.scan_iter(match=f"{prefix}*"))


def wait_for_workers(log: Path, count: int, *, startup_seconds: float = 60) -> None:
    """Until `count` workers of a live server have started: /healthz answers as soon as the
    first has, and a test of what workers share needs them all taking connections."""
    deadline = time.monotonic() + startup_seconds
    while log.read_text().count("Application startup complete.") < count:
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.2)


def body(response: Any) -> dict[str, Any]:
    """A response's JSON without the top-level `extensions` (the cost every answer reports)."""
    return {key: value for key, value in response.json().items() if key != "extensions"}


@contextmanager
def clients_of(app: Starlette, *options: dict[str, Any]) -> Iterator[list[TestClient]]:
    """One test client per `options` (headers, client address), all served on one event loop
    under one lifespan, as uvicorn serves an app: two `with TestClient(app)` would start its
    lifespan twice, on two loops, and its change poller would be told to stop on the other."""
    first, *others = (TestClient(app, **given) for given in options)
    with ExitStack() as stack:
        stack.enter_context(first)
        for other in others:
            # A client with a portal sends through it, and runs no lifespan of its own.
            other.portal = first.portal
            stack.callback(other.close)
        yield [first, *others]

"""Rate limits as a client meets them: 429 with Retry-After past the limit, counted per
address and per API key, X-Forwarded-For believed only from trusted proxies, and one count
for every worker through Redis."""

import hashlib
import ipaddress
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest
from sqlalchemy import Engine
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from atmp_graph.api.app import create_app
from atmp_graph.api.rate_limit import client_address
from atmp_graph.api.settings import Settings
from tests.api.conftest import body, clients_of, redis_keys, wait_for_workers
from tests.api.test_cli import run
from tests.live_server import serving

LUMC_ROR = "05xvt9f17"
COMMAND = str(Path(sys.executable).with_name("atmp-graph"))
QUERY = {"query": "{ __typename }"}
OK = {"data": {"__typename": "Query"}}
# Windows are aligned to the clock: one this long is not crossed while a test runs.
LONG_WINDOW = 10**9


@contextmanager
def api(database_url: str, *, address: str = "192.0.2.1", **settings: Any) -> Iterator[TestClient]:
    """The API, its requests coming from `address`."""
    app = create_app(
        Settings(database_url=database_url, rate_limit_window_seconds=LONG_WINDOW, **settings)
    )
    with TestClient(app, client=(address, 40000)) as client:
        yield client


def statuses(client: TestClient, count: int, **headers: str) -> list[int]:
    return [client.post("/graphql", json=QUERY, headers=headers).status_code for _ in range(count)]


def test_past_the_limit_a_client_is_told_when_to_come_back(
    demo_database_url: str, store_settings: dict[str, Any]
) -> None:
    with api(demo_database_url, rate_limit_per_address=3, **store_settings) as client:
        allowed = [body(client.post("/graphql", json=QUERY)) for _ in range(3)]
        refused = client.post("/graphql", json=QUERY)

    assert allowed == [OK] * 3
    assert refused.status_code == 429
    retry_after = int(refused.headers["retry-after"])
    assert 0 < retry_after <= LONG_WINDOW
    assert body(refused) == {
        "errors": [
            {
                "message": f"too many requests from this address: at most 3 every {LONG_WINDOW} "
                f"seconds; try again in {retry_after} seconds",
                "extensions": {"code": "RATE_LIMITED", "retryAfter": retry_after},
            }
        ]
    }


def test_each_address_has_its_own_allowance(
    demo_database_url: str, store_settings: dict[str, Any]
) -> None:
    settings = {"rate_limit_per_address": 2, **store_settings}
    app = create_app(
        Settings(database_url=demo_database_url, rate_limit_window_seconds=LONG_WINDOW, **settings)
    )
    with clients_of(
        app, {"client": ("198.51.100.1", 40000)}, {"client": ("198.51.100.2", 40000)}
    ) as (first, second):
        assert statuses(first, 3) == [200, 200, 429]
        assert statuses(second, 2) == [200, 200]


def new_key(database_url: str) -> str:
    result = run("keys", "create", "--institution", LUMC_ROR, "--role", "partner", url=database_url)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_each_api_key_has_its_own_allowance_and_is_stored_hashed(
    reference_engine: Engine, database_url: str, redis_settings: dict[str, Any]
) -> None:
    alpha, beta = new_key(database_url), new_key(database_url)
    with api(
        database_url, rate_limit_per_address=100, rate_limit_per_key=2, **redis_settings
    ) as client:
        alphas = statuses(client, 2, Authorization=f"Bearer {alpha}")
        refused = client.post("/graphql", json=QUERY, headers={"Authorization": f"Bearer {alpha}"})
        betas = statuses(client, 2, Authorization=f"Bearer {beta}")
        anonymous = statuses(client, 2)

    assert (alphas, refused.status_code, betas, anonymous) == (
        [200, 200],
        429,
        [200, 200],
        [200, 200],
    )
    assert body(refused)["errors"][0]["message"].startswith(
        "too many requests from this API key: at most 2 every"
    )
    keys = redis_keys(redis_settings)
    alpha_hash = hashlib.sha256(alpha.encode()).hexdigest()
    assert any(key.startswith(f"rate:key:{alpha_hash}:") for key in keys), keys
    assert not any(alpha in key or beta in key for key in keys), keys


def test_guessing_keys_is_limited_by_address(demo_database_url: str) -> None:
    with api(demo_database_url, rate_limit_per_address=2) as client:
        sent = [
            client.post(
                "/graphql", json=QUERY, headers={"Authorization": f"Bearer atmp_guess_{n}"}
            ).status_code
            for n in range(3)
        ]

    # Each guess is refused (401), and a new guess each time does not lift the address limit.
    assert sent == [401, 401, 429]


def test_forwarded_for_counts_only_from_a_trusted_proxy(demo_database_url: str) -> None:
    settings = {"rate_limit_per_address": 1, "trusted_proxies": "10.0.0.0/8, 2001:db8::1"}
    with (
        api(demo_database_url, address="10.1.2.3", **settings) as proxy,
        api(demo_database_url, address="203.0.113.66", **settings) as stranger,
    ):
        # Through the proxy, clients are told apart by the address it forwards.
        assert statuses(proxy, 2, **{"X-Forwarded-For": "203.0.113.7"}) == [200, 429]
        assert statuses(proxy, 1, **{"X-Forwarded-For": "203.0.113.8"}) == [200]
        # Anyone else's X-Forwarded-For is ignored: a new one each time buys nothing.
        spoofed = [
            stranger.post(
                "/graphql", json=QUERY, headers={"X-Forwarded-For": f"203.0.113.{n}"}
            ).status_code
            for n in (20, 21)
        ]
        assert spoofed == [200, 429]


TRUSTED = [ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("2001:db8::1/128")]


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "client"),
    [
        ("203.0.113.5", None, "203.0.113.5"),
        ("203.0.113.5", "198.51.100.9", "203.0.113.5"),
        ("10.0.0.2", "198.51.100.9", "198.51.100.9"),
        ("10.0.0.2", "6.6.6.6, 198.51.100.9", "198.51.100.9"),
        ("10.0.0.2", "198.51.100.9, 10.0.0.7", "198.51.100.9"),
        ("2001:db8::1", "2001:db8::42", "2001:db8::42"),
        ("10.0.0.2", "10.0.0.3, 10.0.0.7", "10.0.0.3"),
        ("testclient", "198.51.100.9", "testclient"),
    ],
    ids=[
        "no proxy",
        "untrusted peer",
        "trusted proxy",
        "a client's own header ignored",
        "a chain of our proxies",
        "ipv6",
        "only proxies",
        "peer no address",
    ],
)
def test_the_client_address(peer: str, forwarded_for: str | None, client: str) -> None:
    assert client_address(peer, forwarded_for, trusted_proxies=TRUSTED) == client


def test_limits_can_be_turned_off_for_load_tests(demo_database_url: str) -> None:
    with api(demo_database_url, rate_limit=False, rate_limit_per_address=1) as client:
        assert statuses(client, 5) == [200] * 5


def test_health_checks_are_not_limited(demo_database_url: str) -> None:
    with api(demo_database_url, rate_limit_per_address=1) as client:
        assert [client.get("/healthz").status_code for _ in range(3)] == [200] * 3
        assert statuses(client, 2) == [200, 429]


def test_a_websocket_counts_at_its_handshake(demo_database_url: str) -> None:
    with api(demo_database_url, rate_limit_per_address=1) as client:
        with client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]):
            pass
        with (
            pytest.raises(WebSocketDisconnect) as refused,
            client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]),
        ):
            pass

    assert refused.value.code == 1013


def test_two_apps_count_into_one_allowance_through_redis(
    demo_database_url: str, redis_settings: dict[str, Any]
) -> None:
    settings = {"rate_limit_per_address": 2, **redis_settings}
    with api(demo_database_url, **settings) as first, api(demo_database_url, **settings) as second:
        assert statuses(first, 1) + statuses(second, 1) + statuses(first, 1) == [200, 200, 429]


def test_the_workers_of_one_server_share_the_allowance(
    tmp_path: Path, redis_settings: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATMP_REDIS_URL", redis_settings["redis_url"])
    monkeypatch.setenv("ATMP_REDIS_PREFIX", redis_settings["redis_prefix"])
    monkeypatch.setenv("ATMP_RATE_LIMIT_PER_ADDRESS", "6")
    monkeypatch.setenv("ATMP_RATE_LIMIT_WINDOW_SECONDS", str(LONG_WINDOW))
    with serving(COMMAND, "--workers", "2", cwd=tmp_path) as base:
        wait_for_workers(tmp_path / "serve.log", 2)
        sent = []
        # A new connection each time, so the workers take turns at accepting them.
        for _ in range(16):
            with httpx2.Client(base_url=base) as http:
                sent.append(http.post("/graphql", json=QUERY).status_code)

    # Each worker counting alone would let up to twelve through.
    assert sent == [200] * 6 + [429] * 10
    assert [key.rsplit(":", 1)[0] for key in redis_keys(redis_settings)] == [
        "rate:address:127.0.0.1"
    ]

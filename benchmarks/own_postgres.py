"""A PostgreSQL cluster of one's own, on a free port of 127.0.0.1, which its owner may stop,
freeze and restart.

The shared server at 5432 serves every test and benchmark and must never be touched; this one
lives in a temporary folder.  PostgreSQL refuses to run as root, so when we run as root the
server's commands run as the `postgres` user.  The tests' fault fixtures and the peer benchmark
(which needs pg_stat_statements preloaded, and the CPU time of every server process) share it.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from benchmarks.processes import children

STARTUP_SECONDS = 30
# A setting goes to the server through pg_ctl's shell: keep it to one shell word.
_SETTING_VALUE = re.compile(r"^[\w.,:/-]+$")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _bindir() -> Path:
    try:
        found = subprocess.run(
            ["pg_config", "--bindir"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        found = ""
    for candidate in (found, "/usr/lib/postgresql/15/bin"):
        if candidate and (Path(candidate) / "initdb").exists():
            return Path(candidate)
    raise RuntimeError("no PostgreSQL server binaries (initdb, pg_ctl) found")


class OwnPostgres:
    """One PostgreSQL cluster (trust authentication, database `postgres`) on 127.0.0.1."""

    def __init__(
        self, directory: Path, *, port: int, settings: Mapping[str, str] | None = None
    ) -> None:
        self.directory, self.port = directory, port
        self.data = directory / "data"
        self.bindir = _bindir()
        self.frozen = False
        self.settings = dict(settings or {})
        for name, value in self.settings.items():
            if not (_SETTING_VALUE.match(name) and _SETTING_VALUE.match(value)):
                raise ValueError(f"server setting {name}={value!r}: one word, no spaces or quotes")

    @property
    def url(self) -> str:
        return self.url_of("postgres")

    def url_of(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    @property
    def log(self) -> Path:
        return self.directory / "server.log"

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bindir / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, cwd=self.directory)

    def initdb(self) -> None:
        self._run("initdb", "-D", str(self.data), "--auth=trust", "-U", "postgres", "-E", "UTF8")

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory}"
        options += "".join(f" -c {name}={value}" for name, value in self.settings.items())
        self._run(
            "pg_ctl", "start", "-D", str(self.data), "-w", "-t", str(STARTUP_SECONDS),
            "-l", str(self.log), "-o", options,
        )  # fmt: skip

    def stop(self) -> None:
        """Stop at once: the server ends every connection (as a crash or a failover would)."""
        self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "fast", "-w")

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def running(self) -> bool:
        return self.postmaster_pid() is not None

    def postmaster_pid(self) -> int | None:
        pid_file = self.data / "postmaster.pid"
        if not pid_file.exists():
            return None
        pid = int(pid_file.read_text().split()[0])
        return pid if Path(f"/proc/{pid}").exists() else None

    def processes(self) -> list[int]:
        """The postmaster first, then its backends and background workers."""
        pid = self.postmaster_pid()
        assert pid is not None, "the server is not running"
        return [pid, *children(pid)]

    def _signal_all(self, signum: signal.Signals) -> None:
        # The postmaster first, so it forks no new backend while its children are signalled.
        for process in self.processes():
            os.kill(process, signum)

    def freeze(self) -> None:
        """SIGSTOP the server and its backends: connections open, nothing answers."""
        self._signal_all(signal.SIGSTOP)
        self.frozen = True

    def thaw(self) -> None:
        self._signal_all(signal.SIGCONT)
        self.frozen = False

    def ensure_running(self) -> None:
        """Back to a running, answering server, whatever its owner left it as."""
        if self.frozen:
            self.thaw()
        if not self.running:
            self.start()


@contextmanager
def own_postgres(settings: Mapping[str, str] | None = None) -> Iterator[OwnPostgres]:
    """A fresh cluster with these server settings (`-c name=value`), started; stopped and
    deleted afterwards."""
    # Not under pytest's tmp_path: its folders are private to root, and the server's user
    # must be able to reach its own data directory.
    directory = Path(tempfile.mkdtemp(prefix="atmp-own-postgres-"))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    server = OwnPostgres(directory, port=free_port(), settings=settings)
    try:
        server.initdb()
        server.start()
        yield server
    finally:
        if server.frozen:
            server.thaw()
        if server.running:
            server.stop()
        shutil.rmtree(directory, ignore_errors=True)

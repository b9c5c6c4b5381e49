"""A PostgreSQL server of a test's own, which it may stop, freeze and restart.

The shared server at 5432 serves every other test and must never be touched; this one lives in
a temporary folder on a free port.  PostgreSQL refuses to run as root, so when the tests run as
root the server's commands run as the `postgres` user.
"""

import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.live_server import free_port

STARTUP_SECONDS = 30


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


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (the postmaster's backends and workers)."""
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue  # it ended while we looked
            # The command name, in parentheses, may hold spaces: the parent id follows it.
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                children.append(int(entry.name))
    return children


class OwnPostgres:
    """One PostgreSQL cluster (trust authentication, database `postgres`) on 127.0.0.1."""

    def __init__(self, directory: Path, *, port: int) -> None:
        self.directory, self.port = directory, port
        self.data = directory / "data"
        self.bindir = _bindir()
        self.frozen = False

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bindir / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, cwd=self.directory)

    def initdb(self) -> None:
        self._run("initdb", "-D", str(self.data), "--auth=trust", "-U", "postgres", "-E", "UTF8")

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory}"
        self._run(
            "pg_ctl", "start", "-D", str(self.data), "-w", "-t", str(STARTUP_SECONDS),
            "-l", str(self.directory / "server.log"), "-o", options,
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

    def _signal_all(self, signum: signal.Signals) -> None:
        pid = self.postmaster_pid()
        assert pid is not None, "the server is not running"
        # The postmaster first, so it forks no new backend while its children are signalled.
        for process in [pid, *_children(pid)]:
            os.kill(process, signum)

    def freeze(self) -> None:
        """SIGSTOP the server and its backends: connections open, nothing answers."""
        self._signal_all(signal.SIGSTOP)
        self.frozen = True

    def thaw(self) -> None:
        self._signal_all(signal.SIGCONT)
        self.frozen = False

    def ensure_running(self) -> None:
        """Back to a running, answering server, whatever a test left it as."""
        if self.frozen:
            self.thaw()
        if not self.running:
            self.start()


@contextmanager
def own_postgres() -> Iterator[OwnPostgres]:
    """A fresh cluster, started; stopped and deleted afterwards."""
    # Not under pytest's tmp_path: its folders are private to root, and the server's user
    # must be able to reach its own data directory.
    directory = Path(tempfile.mkdtemp(prefix="atmp-own-postgres-"))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    server = OwnPostgres(directory, port=free_port())
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

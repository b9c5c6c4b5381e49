"""A lease per feed, so that two workers never run the same feed at once.

The lease is a row of `ingest_lease` (model/jobs.py): which worker holds the feed, for which
run, and until when the lease counts without a heartbeat.  On PostgreSQL the holder also
keeps an advisory lock on a connection of its own for as long as it holds the lease: while the
lock is held nobody else can take the feed, whatever the row says, and the server lets go of
it when the worker's connection dies.  The heartbeat moves the row's expiry on and writes the
run's counts so far.

A holder that stopped (killed, its machine gone) leaves its row until it expires: its run stays
RUNNING until then, and whoever next looks at the feed (a worker wanting it, a scheduler tick)
takes the lease over and marks that run FAILED, saying why.  On SQLite, where a run holding its
writes keeps every other connection from writing (the heartbeat too), a lease also holds for
as long as its holder's process lives on this machine, and ends when it is gone.
"""

import datetime as dt
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from sqlalchemy import Connection, Engine, Row, case, delete, insert, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError

from atmp_graph.enums import IngestRunStatus
from atmp_graph.model.jobs import IngestLease
from atmp_graph.model.provenance import IngestRun

log = logging.getLogger("atmp_graph.jobs")
# Advisory locks are per database: the schema is part of the key, so that deployments (or
# tests) in schemas of one database do not keep each other's feeds out.
_KEY = "hashtextextended(coalesce(current_schema(), '') || ' atmp-graph ingest ' || :feed, 0)"
LeaseRow = Row[str, int | None, str, dt.datetime]
_LEASE_COLUMNS = (IngestLease.feed, IngestLease.run_id, IngestLease.holder, IngestLease.expires_at)
_LOCK = text(f"SELECT pg_try_advisory_lock({_KEY})")
_UNLOCK = text(f"SELECT pg_advisory_unlock({_KEY})")


def new_holder() -> str:
    """A name for one holding of a lease: this machine, this process, and a token."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def utc(moment: dt.datetime) -> dt.datetime:
    # SQLite gives back what it stored without its zone; everything is stored in UTC.
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Lease:
    """A feed held by this process, on a connection of its own (the advisory lock's)."""

    feed: str
    holder: str
    ttl: dt.timedelta
    connection: Connection
    postgres: bool
    run_id: int | None = None
    # False: the advisory lock alone (a command line run on PostgreSQL), no row.
    row: bool = True
    _use: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def attach(self, run_id: int) -> None:
        """The run this holding is for: the row names it, so that whoever finds the lease
        abandoned knows which run to mark failed."""
        self.run_id = run_id
        moment = now()
        with self._use, self.connection.begin():
            self.connection.execute(
                update(IngestLease)
                .where(IngestLease.feed == self.feed, IngestLease.holder == self.holder)
                .values(run_id=run_id, expires_at=moment + self.ttl)
            )
            self.connection.execute(
                update(IngestRun).where(IngestRun.id == run_id).values(worker=self.holder)
            )

    def renew(self, progress: Mapping[str, int] | None = None) -> bool:
        """Move the expiry on and write the run's counts so far; False if the lease is no
        longer this holder's."""
        if not self.row:
            return True
        moment = now()
        with self._use, self.connection.begin():
            renewed = self.connection.execute(
                update(IngestLease)
                .where(IngestLease.feed == self.feed, IngestLease.holder == self.holder)
                .values(expires_at=moment + self.ttl)
            )
            if self.run_id is not None:
                self.connection.execute(
                    update(IngestRun)
                    .where(IngestRun.id == self.run_id, IngestRun.status == IngestRunStatus.RUNNING)
                    .values(heartbeat_at=moment, **_never_less(progress or {}))
                )
        return renewed.rowcount == 1

    def release(self) -> None:
        with self._use:
            try:
                with self.connection.begin():
                    self.connection.execute(
                        delete(IngestLease).where(
                            IngestLease.feed == self.feed, IngestLease.holder == self.holder
                        )
                    )
                    if self.postgres:
                        self.connection.execute(_UNLOCK, {"feed": self.feed})
            finally:
                self.connection.close()


def _never_less(progress: Mapping[str, int]) -> dict[str, Any]:
    """The counts as values that only move up: a beat that read them, then waited for the
    write lock while the run committed a batch with newer ones, must not put back the old."""
    columns = IngestRun.__table__.c
    return {
        name: case((columns[name] < count, count), else_=columns[name])
        for name, count in progress.items()
    }


def try_acquire(
    engine: Engine, feed: str, *, holder: str, ttl: dt.timedelta, job: bool = True
) -> Lease | None:
    """The feed's lease, if nobody alive holds it (taking over an abandoned one, whose run
    is marked failed); None if someone does, or (SQLite) the database is busy writing.

    Not a `job` (a command line run), on PostgreSQL: the advisory lock alone, which the
    server ends with the process; a killed command's run is marked failed by the feed's next
    run, as it always was."""
    connection = engine.connect()
    postgres = connection.dialect.name == "postgresql"
    locked = False
    try:
        if postgres:
            with connection.begin():
                locked = bool(connection.execute(_LOCK, {"feed": feed}).scalar())
            if not locked:
                connection.close()
                return None
            if not job:
                return Lease(feed, holder, ttl, connection, postgres, row=False)
        if _claim(connection, feed, holder=holder, ttl=ttl, postgres=postgres):
            return Lease(feed, holder, ttl, connection, postgres)
    except (IntegrityError, OperationalError) as error:
        if postgres and isinstance(error, OperationalError):
            connection.close()
            raise
        # SQLite: another worker inserted the row first, or a run holds the database's
        # write lock; the feed is looked at again on the next tick.
        log.debug("%s: lease not taken now: %s", feed, error)
    if locked:
        with connection.begin():
            connection.execute(_UNLOCK, {"feed": feed})
    connection.close()
    return None


def _claim(
    connection: Connection, feed: str, *, holder: str, ttl: dt.timedelta, postgres: bool
) -> bool:
    moment = now()
    with connection.begin():
        row = connection.execute(select(*_LEASE_COLUMNS).where(IngestLease.feed == feed)).first()
        values = {"holder": holder, "run_id": None, "acquired_at": moment}
        values["expires_at"] = moment + ttl
        if row is None:
            connection.execute(insert(IngestLease).values(feed=feed, **values))
            return True
        reason = ended(row, moment, postgres=postgres)
        if reason is None:
            return False
        # Compare-and-set: of those who found it abandoned, one takes it.
        taken = connection.execute(
            update(IngestLease)
            .where(IngestLease.feed == feed, IngestLease.holder == row.holder)
            .values(**values)
        )
        if taken.rowcount != 1:
            return False
        if row.run_id is not None:
            connection.execute(
                update(IngestRun)
                .where(IngestRun.id == row.run_id, IngestRun.status == IngestRunStatus.RUNNING)
                .values(status=IngestRunStatus.FAILED, finished_at=moment, error=reason)
            )
            log.warning("%s: run %s marked failed: %s", feed, row.run_id, reason)
        return True


def ended(row: "LeaseRow", moment: dt.datetime, *, postgres: bool) -> str | None:
    """Why the lease in `row` no longer holds, or None while it does."""
    worker = _worker_name(row.holder)
    # A process known gone is the truer reason, whether or not its lease has run out by the
    # time someone looks.
    if not postgres and _process_gone(row.holder):
        return f"its worker ({worker}) is gone: that process no longer runs"
    expires = utc(row.expires_at)
    if expires <= moment:
        return (
            f"its worker ({worker}) stopped sending heartbeats: its lease expired at "
            f"{expires:%Y-%m-%d %H:%M:%S} UTC"
        )
    return None


def _worker_name(holder: str) -> str:
    return holder.rsplit(":", 1)[0]


def _process_gone(holder: str) -> bool:
    """Whether the holder's process is known to be gone (only on this machine can it be)."""
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:
        # A killed process its parent has not waited for yet is a zombie: gone all the same.
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state in {"Z", "X"}


class Heartbeat:
    """Renews a lease every third of its time to live while a run goes on, with the counts
    `progress` gives; a beat that fails (the database busy or away) is tried at the next."""

    def __init__(self, lease: Lease, progress: Callable[[], Mapping[str, int]]) -> None:
        self.lease, self.progress = lease, progress
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._beat, name=f"heartbeat {lease.feed}", daemon=True
        )

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        interval = self.lease.ttl.total_seconds() / 3
        while not self._stop.wait(interval):
            try:
                if not self.lease.renew(self.progress()):
                    log.warning("%s: the lease is no longer this worker's", self.lease.feed)
            except OperationalError as error:
                log.info("%s: heartbeat missed: %s", self.lease.feed, error.orig or error)


def held_feeds(engine: Engine) -> list["LeaseRow"]:
    with engine.connect() as connection:
        return list(connection.execute(select(*_LEASE_COLUMNS)))


def reap(engine: Engine, *, holder: str) -> None:
    """Take over, and so end, every lease whose holder stopped: its run is marked failed."""
    postgres = engine.dialect.name == "postgresql"
    moment = now()
    for row in held_feeds(engine):
        if ended(row, moment, postgres=postgres) is None:
            continue
        lease = try_acquire(engine, row.feed, holder=holder, ttl=dt.timedelta(minutes=1))
        if lease is not None:
            lease.release()


class FeedBusy(RuntimeError):
    """Another worker runs the feed now; the message says which run, and who."""


@contextmanager
def holding(engine: Engine, feed: str, *, ttl: dt.timedelta) -> Iterator[Lease]:
    """The feed's lease, with its heartbeat, for a run outside the queue (`atmp-graph
    ingest`); FeedBusy if someone holds it."""
    lease = try_acquire(engine, feed, holder=new_holder(), ttl=ttl, job=False)
    if lease is None:
        raise FeedBusy(_busy_sentence(engine, feed))
    try:
        with Heartbeat(lease, dict):
            yield lease
    finally:
        lease.release()


def _busy_sentence(engine: Engine, feed: str) -> str:
    row = next((row for row in held_feeds(engine) if row.feed == feed), None)
    if row is None:
        return f"{feed} is being ingested now by another command; try again when it has finished"
    run = "" if row.run_id is None else f" (run {row.run_id})"
    return (
        f"{feed} is being ingested now{run} by {_worker_name(row.holder)}; try again when "
        "it has finished"
    )

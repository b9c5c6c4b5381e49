"""What the job workers share through the database: who holds each feed, and when each
feed's schedule is next due.

A lease row says which worker runs a feed now, and until when it counts without a heartbeat
(jobs/lease.py); on PostgreSQL an advisory lock, held on the worker's own connection, is
what keeps a second worker out while the first lives.  A schedule row is the next time a
feed is due, which the workers' scheduler ticks move on with a compare-and-set, so only one
of them queues each due run (jobs/scheduler.py).
"""

import datetime as dt

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from atmp_graph.model.base import Base


class IngestLease(Base):
    """The worker running a feed, and until when its lease holds without a heartbeat."""

    __tablename__ = "ingest_lease"

    feed: Mapped[str] = mapped_column(String(120), primary_key=True)
    run_id: Mapped[int | None]
    # host:pid:token, so a lease is known for its own and its process can be looked for.
    holder: Mapped[str] = mapped_column(String(300))
    acquired_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class IngestSchedule(Base):
    """When a feed's schedule is next due; `schedule` is the expression it was worked out
    from, so that a changed configuration starts again from now."""

    __tablename__ = "ingest_schedule"

    feed: Mapped[str] = mapped_column(String(120), primary_key=True)
    schedule: Mapped[str] = mapped_column(String(200))
    next_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

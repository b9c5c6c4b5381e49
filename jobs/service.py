"""What the API asks of the jobs: queue a run (runIngest), wake whoever runs it.

With Redis configured (ATMP_REDIS_URL) the web workers only queue runs and send wake-ups;
`atmp-graph worker` runs them.  Without, the embedded default, each web worker runs them
itself (jobs/in_process.py).
"""

import asyncio
from pathlib import Path
from typing import Protocol

from sqlalchemy.orm import Session

from atmp_graph.identity.curation import InvalidInput
from atmp_graph.identity.precedence import Precedence
from atmp_graph.jobs.config import JobsConfig, load_jobs_config
from atmp_graph.jobs.drain import JobContext
from atmp_graph.jobs.in_process import InProcessRunner
from atmp_graph.jobs.queue import RedisQueue
from atmp_graph.jobs.runs import queue_audited_run
from atmp_graph.model.audit import Actor
from atmp_graph.model.database import make_engine
from atmp_graph.plugins.manager import PluginHost

# How long a stopping web worker waits for the run its jobs thread is in.
SHUTDOWN_SECONDS = 30.0


class Wakes(Protocol):
    def wake(self, feed: str) -> None: ...


class JobService:
    """The jobs file the server read (None: none) and the way to the runs' runner."""

    def __init__(
        self, config: JobsConfig | None, wakes: Wakes | None, runner: InProcessRunner | None
    ) -> None:
        self.config, self.wakes, self.runner = config, wakes, runner

    def queue_run(self, session: Session, actor: Actor, feed: str) -> int:
        if self.config is None:
            raise InvalidInput(
                [("feed", "this server runs no ingest jobs: it was started without a jobs "
                  "file (ATMP_JOBS_CONFIG)")]
            )  # fmt: skip
        job = self.config.feeds.get(feed)
        if job is None:
            named = ", ".join(sorted(self.config.feeds))
            raise InvalidInput(
                [("feed", f"the jobs file names no feed {feed!r}; it names: {named}")]
            )
        return queue_audited_run(session, actor, feed=feed, source=job.source).id

    async def wake(self, feed: str) -> None:
        if self.wakes is not None:
            await asyncio.to_thread(self.wakes.wake, feed)

    def start(self) -> None:
        if self.runner is not None:
            self.runner.start()

    def close(self) -> None:
        if self.runner is not None:
            self.runner.close(timeout=SHUTDOWN_SECONDS)
            self.runner.context.engine.dispose()
        if isinstance(self.wakes, RedisQueue):
            self.wakes.close()


def open_jobs(
    *,
    jobs_file: Path | None,
    database_url: str,
    redis_url: str | None,
    redis_prefix: str,
    host: PluginHost,
    precedence: Precedence,
) -> JobService:
    """The server's jobs: a queue to Redis, or a runner of its own (the embedded default)."""
    if jobs_file is None:
        return JobService(None, None, None)
    config = load_jobs_config(jobs_file, host.feeds())
    if redis_url:
        return JobService(config, RedisQueue(redis_url, prefix=redis_prefix), None)
    context = JobContext(make_engine(database_url), config, host, precedence)
    runner = InProcessRunner(context)
    return JobService(config, runner, runner)

"""GraphQL for ingests as jobs: runIngest queues a run of a feed the jobs file configures.

The run is a row first (QUEUED, with its audit entry, in one transaction) and a wake-up
second, so a wake-up lost with Redis delays the run to the next scheduler tick and loses
nothing.  Who runs it, and how, is jobs/'s business, reached through the context.
"""

from typing import Annotated

import strawberry
from sqlalchemy.orm import Session

import atmp_graph.model as m
from atmp_graph.schema.audit import actor
from atmp_graph.schema.audit import audited as audited_call
from atmp_graph.schema.context import Info
from atmp_graph.schema.filters import check_text
from atmp_graph.schema.provenance import IngestRun


@strawberry.type
class JobsMutation:
    @strawberry.mutation(
        description="Run a feed's ingest as the jobs file configures it, its source and "
        "settings (admins only). The run is queued and returned at once, QUEUED; a worker "
        "runs it (`atmp-graph worker`, or the server itself when it has no Redis), after any "
        "run of the same feed asked for before it (`waitingFor`). Follow it with `node(id:)` "
        "or `ingestRuns`: its status, counts so far and, once it ends, its report."
    )
    async def run_ingest(
        self,
        info: Info,
        feed: Annotated[
            str,
            strawberry.argument(description="The feed, as the jobs file names it (ctgov, …)."),
        ],
    ) -> IngestRun:
        check_text(feed, argument="feed")
        by, jobs = actor(info.context.viewer), info.context.jobs

        def queue(session: Session) -> IngestRun:
            run_id = jobs.queue_run(session, by, feed)
            return IngestRun.from_row(session.get_one(m.IngestRun, run_id))

        queued = await audited_call(info, queue)
        await jobs.wake(feed)
        return queued

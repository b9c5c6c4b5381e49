"""What every resolver gets as `info.context`."""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session
from strawberry.types import Info as StrawberryInfo

from atmp_graph.access.viewer import ANONYMOUS, Viewer
from atmp_graph.identity.curation import CheckValues, InvalidInput
from atmp_graph.identity.precedence import Precedence, load_precedence
from atmp_graph.model.audit import Actor
from atmp_graph.schema.loaders import Loaders


async def _no_secret() -> str:
    raise RuntimeError("this context has no server secret")


def _no_value_check(entity_type: str, values: Any, **_: Any) -> dict[str, Any]:
    raise RuntimeError("this context cannot check curated values")


class IngestJobs(Protocol):
    """Queues ingest runs (runIngest); the API fills it in from jobs/, so the schema never
    imports the jobs package."""

    def queue_run(self, session: Session, actor: Actor, feed: str) -> int:
        """Queue a run of `feed` with its audit entry; its id.  InvalidInput if the server
        runs no such job."""
        ...

    async def wake(self, feed: str) -> None:
        """After the run is committed: have a worker (or this process) run it."""
        ...


class _NoJobs:
    def queue_run(self, session: Session, actor: Actor, feed: str) -> int:
        raise InvalidInput([("feed", "this server runs no ingest jobs")])

    async def wake(self, feed: str) -> None:
        return None


@dataclass
class Context:
    sessions: async_sessionmaker[AsyncSession]
    # Where the read planner runs its statements: the same database, outside transactions
    # (model/database.py `reads_only`); None: the sessions' engine.
    reads: AsyncEngine | None = None
    # What the plugin host says of each plugin (name, version, builtin, hooks, feeds, errors,
    # and `with_unchecked` to add what the quarantine says of its validation hook); the API
    # fills it in, so the schema never imports the plugins package.
    plugins: Sequence[Any] = ()
    request: Any = None
    # Which feed wins each field; the API loads it from settings once.
    precedence: Precedence = field(default_factory=load_precedence)
    # Who is asking (the API checks the key): what schema/visibility.py lets them see.
    viewer: Viewer = ANONYMOUS
    # The server secret, which keys what is shown of content hashes (looked up when first
    # needed, so a request that shows none costs no statement for it).
    secret: Callable[[], Awaitable[str]] = _no_secret
    # What a WebSocket client sent with connection_init (its key, say).
    connection_params: Any = None
    # The response being made, where one is (an operation refused whole sets its status).
    response: Any = None
    # Checks a curator's values as a feed's record's are (ingest/curated_values.py); the API
    # fills it in, so the schema never imports the ingest package.
    check_curated: CheckValues = _no_value_check
    # The id the HTTP layer gave the request: a masked error carries it, and so does its log.
    request_id: str | None = None
    # The execution deadline (schema/limits.py), for work that awaits before execution.
    deadline: Any = None
    # The read planner's plan, when it answered the whole operation (schema/planner/).
    planned: Any = None
    # Which operation the document runs (schema/operation_facts.py), once it has parsed.
    operation_type: str | None = None
    operation_name: str | None = None
    # What wakes subscriptions and caps them (api/live_updates.py LiveUpdates); None: the
    # schema run directly, whose subscriptions look for new events each second.
    live: Any = None
    # Where runIngest queues its runs.
    jobs: IngestJobs = field(default_factory=_NoJobs)
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.sessions)


Info = StrawberryInfo[Context, None]

"""A database that is down, frozen or slow answers as one clear GraphQL error.

The driver's message names hosts, users and SQL, so the client gets a sentence and a code
instead; Strawberry has already logged the original, with its traceback, for the operator.
"""

from collections.abc import Iterator

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql.error import GraphQLError
from sqlalchemy import exc
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import ExecutionResult

UNAVAILABLE = "the database is unavailable, try again shortly"
TOO_SLOW = "the database took too long to answer; ask for less, or try again shortly"
FAILED = "the database could not answer this query"

# PostgreSQL's SQLSTATE for a statement its statement_timeout (or a cancel) ended.
QUERY_CANCELED = "57014"


def database_error(error: BaseException | None) -> tuple[str, str] | None:
    """The message and code that replace `error`, if it came from the database."""
    if isinstance(error, exc.DBAPIError) and getattr(error.orig, "sqlstate", None) == (
        QUERY_CANCELED
    ):
        return TOO_SLOW, "DATABASE_TIMEOUT"
    # A pool that had no free connection in time, a refused or dropped connection, a server
    # that stopped answering: all say the same to the client.
    if isinstance(
        error, exc.OperationalError | exc.InterfaceError | exc.TimeoutError | exc.DisconnectionError
    ):
        return UNAVAILABLE, "DATABASE_UNAVAILABLE"
    if isinstance(error, exc.SQLAlchemyError):
        return FAILED, "DATABASE_ERROR"
    return None


def _translated(error: GraphQLError) -> GraphQLError:
    found = database_error(error.original_error)
    if found is None:
        return error
    message, code = found
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={"code": code},
    )


class DatabaseErrors(SchemaExtension):
    """Replaces each error that a resolver's database work raised by its clear message."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if isinstance(result, GraphQLExecutionResult | ExecutionResult) and result.errors:
            result.errors = [_translated(error) for error in result.errors]

"""Which errors a client may read, and what it gets instead of the others.

A client reads our deliberate errors (`UserError`), GraphQL's own messages about its document
and variables, and the sentences schema/db_errors.py puts in place of the database's. Anything
else (a bug, say) would carry SQL, parameters, driver text or file paths: the client gets
"Unexpected error." with a request id to quote, and the log gets the traceback under that id.
"""

import logging
import uuid
from collections.abc import Sequence
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import MaskErrors
from strawberry.relay.types import GlobalIDValueError

logger = logging.getLogger("atmp_graph.errors")

UNEXPECTED = "Unexpected error."
# `extensions.code` of a masked error, so the HTTP layer can tell a failure of ours from a
# request the client got wrong.
INTERNAL = "INTERNAL_SERVER_ERROR"


class UserError(GraphQLError):
    """A request the client can fix. Its message reaches the client as it is, so it names the
    argument and the reason, and never quotes SQL, the driver or the code."""


def is_user_facing(error: GraphQLError) -> bool:
    original = error.original_error
    if original is None or isinstance(original, UserError | GlobalIDValueError):
        return True
    # Without a path the error is about the request, not a field: graphql-core wraps what a
    # scalar said of a variable's value in a message of its own.
    return error.path is None and isinstance(original, GraphQLError)


def request_id_of(context: Any) -> str:
    """The id the HTTP layer gave this request; a fresh one when the schema runs directly."""
    return getattr(context, "request_id", None) or uuid.uuid4().hex


def log_unexpected(errors: Sequence[GraphQLError], request_id: str) -> None:
    """Log each error the client will not read, with its traceback, under the request id."""
    for error in errors:
        if is_user_facing(error):
            continue
        original = error.original_error or error
        logger.error(
            "request %s: unexpected error at %s",
            request_id,
            ".".join(map(str, error.path or ())) or "(the request)",
            exc_info=(type(original), original, original.__traceback__),
        )


def masked(error: GraphQLError, request_id: str) -> GraphQLError:
    """`error` as the client sees it (Schema.process_errors logged the original)."""
    return GraphQLError(
        UNEXPECTED,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={"code": INTERNAL, "requestId": request_id},
    )


def mask_unexpected(errors: Sequence[GraphQLError], request_id: str) -> list[GraphQLError]:
    return [error if is_user_facing(error) else masked(error, request_id) for error in errors]


class MaskUnexpectedErrors(MaskErrors):
    """Strawberry's MaskErrors, passing what `is_user_facing` allows."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda error: not is_user_facing(error))

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        return masked(error, request_id_of(self.execution_context.context))

"""Turning a feed's row into a validated record, or into the problems that quarantine it."""

import hashlib
from typing import TYPE_CHECKING

from pydantic import ValidationError

from atmp_graph.plugins.cursors import CursorError
from atmp_graph.plugins.feeds import Stream
from atmp_graph.plugins.records import RECORD_TYPES, FieldProblem, Record, SourceRow
from atmp_graph.plugins.report import Problem

if TYPE_CHECKING:
    from atmp_graph.plugins.manager import PluginHost


def _problems(error: ValidationError, labels: dict[str, str]) -> tuple[Problem, ...]:
    problems = []
    for detail in error.errors():
        cause = (detail.get("ctx") or {}).get("error")
        location = ".".join(str(part) for part in detail["loc"])
        if isinstance(cause, FieldProblem):
            location = cause.field
        reason = str(cause) if cause is not None else detail["msg"].lower()
        if detail["type"] == "missing":
            reason = "is required"
        label = labels.get(location) or labels.get(location.split(".")[0]) or location or None
        value = detail.get("input") if detail["loc"] and detail["type"] != "missing" else None
        problems.append(Problem(label, None if value is None else str(value), reason))
    return tuple(problems)


def cursor_problem(row: SourceRow, stream: Stream) -> Problem | None:
    """Why the row's cursor is not of its stream's type, naming the field and the value."""
    if row.cursor is None or not row.cursor.strip():
        return None
    try:
        stream.cursor_value(row.cursor)
    except CursorError as error:
        label = row.labels.get("cursor") or stream.cursor_field or "cursor"
        return Problem(label, row.cursor, str(error))
    return None


def validate_row(
    row: SourceRow,
    *,
    feed: str,
    host: "PluginHost | None" = None,
    stream: Stream | None = None,
) -> Record | tuple[Problem, ...]:
    """The validated record, or the problems that send the row to quarantine.

    Checks, in order: what the adapter itself reported, the cursor against its `stream`'s
    cursor type, the record type's own rules, then any rules that plugins add through
    `atmp_graph_validate_record`.
    """
    if row.problem:
        return (Problem(None, None, row.problem),)
    cursor = None if stream is None else cursor_problem(row, stream)
    early = () if cursor is None else (cursor,)
    record_type = RECORD_TYPES.get(row.entity)
    if record_type is None:
        return (*early, Problem(None, row.entity, "is not a known entity type"))
    try:
        record = record_type.model_validate({**row.data, "source_id": row.source_id})
    except ValidationError as error:
        return (*early, *_problems(error, dict(row.labels)))
    extra = host.extra_problems(feed, record) if host is not None else []
    if extra:
        return (*early, *(Problem(row.labels.get(f, f), None, reason) for f, reason in extra))
    return early or record


def content_hash(record: Record) -> str:
    """SHA-256 of the validated content: equal hashes, nothing to write."""
    return hashlib.sha256(record.model_dump_json().encode()).hexdigest()

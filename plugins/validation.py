"""Turning a feed's row into a validated record, or into the problems that quarantine it."""

import hashlib
from typing import TYPE_CHECKING

from pydantic import ValidationError

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


def builtin_check(row: SourceRow) -> Record | tuple[Problem, ...]:
    """The validated record, or what the adapter and the record type's own rules find wrong."""
    if row.problem:
        return (Problem(None, None, row.problem),)
    record_type = RECORD_TYPES.get(row.entity)
    if record_type is None:
        return (Problem(None, row.entity, "is not a known entity type"),)
    try:
        return record_type.model_validate({**row.data, "source_id": row.source_id})
    except ValidationError as error:
        return _problems(error, dict(row.labels))


def validate_row(
    row: SourceRow, *, feed: str, host: "PluginHost | None" = None
) -> Record | tuple[Problem, ...]:
    """The validated record, or the problems that send the row to quarantine.

    Checks, in order: what the adapter itself reported, the record type's own rules, then any
    rules that plugins add through `atmp_graph_validate_record`, which see every row (a hook
    that names `row`, also one the built-in checks rejected) and whose reasons follow the
    built-in ones.
    """
    checked = builtin_check(row)
    record = checked if isinstance(checked, Record) else None
    problems: tuple[Problem, ...] = () if isinstance(checked, Record) else checked
    if host is not None:
        problems += host.extra_problems(feed=feed, row=row, record=record, problems=problems)
    if record is None or problems:
        return problems
    return record


def content_hash(record: Record) -> str:
    """SHA-256 of the validated content: equal hashes, nothing to write."""
    return hashlib.sha256(record.model_dump_json().encode()).hexdigest()

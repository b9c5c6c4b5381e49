"""Turning a feed's row into a validated record, or into the problems that quarantine it."""

import hashlib
from collections import deque
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from atmp_graph.plugins.limits import (
    MAX_FIELD_LENGTH,
    MAX_NESTING_DEPTH,
    MAX_SOURCE_ID_LENGTH,
    field_too_long,
    source_id_too_long,
)
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
        label = _label(labels, location) or None
        value = detail.get("input") if detail["loc"] and detail["type"] != "missing" else None
        problems.append(Problem(label, None if value is None else str(value), reason))
    return tuple(problems)


def _label(labels: Mapping[str, str], location: str) -> str:
    return labels.get(location) or labels.get(location.split(".", maxsplit=1)[0]) or location


def _values(data: Mapping[str, Any]) -> Iterator[tuple[str, Any, int]]:
    """Every value in `data` with its location (`sites.2.name`) and depth, without recursion,
    and nothing below the nesting-depth limit (the value there is reported, not walked)."""
    queue = deque((key, value, 1) for key, value in data.items())
    while queue:
        location, value, depth = queue.popleft()
        yield location, value, depth
        if depth > MAX_NESTING_DEPTH:
            continue
        if isinstance(value, Mapping):
            queue.extend((f"{location}.{k}", v, depth + 1) for k, v in value.items())
        elif isinstance(value, list | tuple):
            queue.extend((f"{location}.{i}", v, depth + 1) for i, v in enumerate(value))


def _within_limits(data: Mapping[str, Any]) -> bool:
    """Whether no string in `data` is over the field-length limit and nothing is nested past
    the depth limit: a level at a time, without locations, since it runs for every row."""
    level: list[Any] = [data]
    for _ in range(MAX_NESTING_DEPTH):
        below: list[Any] = []
        for container in level:
            for value in container.values() if isinstance(container, Mapping) else container:
                if isinstance(value, str):
                    if len(value) > MAX_FIELD_LENGTH:
                        return False
                elif isinstance(value, Mapping | list | tuple):
                    below.append(value)
        if not below:
            return True
        level = below
    return False


def _over_limits(row: SourceRow) -> tuple[Problem, ...]:
    """What any plugin hands over must fit plugins/limits.py: the source id, and every value
    (the database would refuse the one, and a recursive validator choke on the other)."""
    problems: dict[str | None, Problem] = {}
    if row.source_id is not None and len(row.source_id) > MAX_SOURCE_ID_LENGTH:
        label = row.labels.get("source_id", "source id")
        problems[label] = Problem(label, None, source_id_too_long(len(row.source_id)))
    if _within_limits(row.data):
        return tuple(problems.values())
    for location, value, depth in _values(row.data):
        label = _label(row.labels, location)
        if label in problems:
            continue  # one reason per field: a column may fill several fields
        if depth > MAX_NESTING_DEPTH:
            reason = f"is nested deeper than the nesting-depth limit of {MAX_NESTING_DEPTH}"
            problems[label] = Problem(label, None, reason)
        elif isinstance(value, str) and len(value) > MAX_FIELD_LENGTH:
            problems[label] = Problem(label, None, field_too_long(len(value)))
    return tuple(problems.values())


def builtin_check(row: SourceRow) -> Record | tuple[Problem, ...]:
    """The validated record, or what the adapter, the limits (plugins/limits.py) and the record
    type's own rules find wrong."""
    if row.problem:
        return (Problem(row.problem_field, None, row.problem),)
    over = _over_limits(row)
    if over:
        return over
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

    Checks, in order: what the adapter itself reported, the limits, the record type's own
    rules, then any rules that plugins add through `atmp_graph_validate_record`, which see
    every row (a hook that names `row`, also one the built-in checks rejected) and whose
    reasons follow the built-in ones.
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

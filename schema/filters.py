"""The checks every text argument passes, and the plain filter inputs of the curation lists
whose fields are not their columns' (the others are generated: schema/list_inputs.py).

Text is checked before it reaches SQL: PostgreSQL refuses a NUL character and SQLite a long
LIKE pattern, and the client can do nothing with a database's refusal.
"""

import datetime as dt

import strawberry
from strawberry import relay

from atmp_graph.schema.enums import (
    QuarantineStatus,
)
from atmp_graph.schema.errors import UserError

# Room for a pasted full title; SQLite refuses LIKE patterns over 50,000 bytes.
MAX_TEXT_ARGUMENT = 1000


def shortened(value: str, limit: int = 40) -> str:
    """`value` quoted for an error message, cut short so a huge input is not echoed back."""
    return repr(value) if len(value) <= limit else f"{value[:limit]!r}…"


def check_text(value: str, *, argument: str) -> None:
    """Refuse text no name or id holds, with a UserError naming the argument."""
    if "\x00" in value:
        raise UserError(f"{argument}: {shortened(value)} holds a NUL character")
    if len(value) > MAX_TEXT_ARGUMENT:
        raise UserError(
            f"{argument}: {len(value)} characters, "
            f"more than the {MAX_TEXT_ARGUMENT} this argument takes"
        )


@strawberry.input(description="Which quarantined records to list.")
class QuarantineFilter:
    feed: str | None = strawberry.field(default=None, description="From this feed.")
    run_id: int | None = strawberry.field(default=None, description="From this run (its number).")
    status: QuarantineStatus | None = strawberry.field(
        default=None, description="In this state (without it, and without runId: OPEN)."
    )


@strawberry.input(description="Which conflicts to list.")
class ConflictFilter:
    entity_type: str | None = strawberry.field(
        default=None, description="Only nodes of this kind (clinical_trial, product, …)."
    )
    field: str | None = strawberry.field(
        default=None, description="Only disagreements on this field (camelCase, e.g. phase)."
    )


@strawberry.input(description="Which audit entries to list (all that match every field set).")
class AuditFilter:
    operation: str | None = strawberry.field(
        default=None, description="Of this operation (a mutation's name, e.g. editCuratedFields)."
    )
    key_id: int | None = strawberry.field(default=None, description="Done with this API key.")
    institution: relay.GlobalID | None = strawberry.field(
        default=None, description="Done with a key of this institution (its global id)."
    )
    since: dt.datetime | None = strawberry.field(default=None, description="At or after this.")
    until: dt.datetime | None = strawberry.field(default=None, description="Before this.")

"""What a planned stats root field reads (stats_plan.py plans it): its measures and breakdowns,
under the response keys asked for.  Its statement (stats_sql.py) and its assembler
(stats_assemble.py) read these shapes.
"""

from dataclasses import dataclass

from sqlalchemy import ColumnElement

from atmp_graph.model import Base
from atmp_graph.schema.breakdowns import Breakdown
from atmp_graph.schema.measures import Measures
from atmp_graph.schema.planner.plan import Constant, Convert, NodeShape, Value

TOTAL_GROUPS = "total_groups"


@dataclass(frozen=True)
class Leaf:
    """A scalar field of a value the resolvers' own code builds (an `Enrollment`): its
    attribute, serialized as GraphQL serializes it."""

    key: str
    attribute: str
    serialize: Convert


@dataclass(frozen=True)
class Measured:
    """A field answered by `measures.value` of a row of aggregates: a scalar (`fields` None),
    serialized as GraphQL does, or an object whose `fields` are read."""

    key: str
    name: str  # the field's: its aliases read the same row
    measures: Measures
    serialize: Convert | None
    fields: tuple[Leaf | Constant, ...] | None


@dataclass(frozen=True)
class GroupColumn:
    """A group's field shown from a column of its breakdown's row (aggregates.KEY, COUNT or a
    measure's name); `convert` makes its value the answer's."""

    key: str
    column: str
    convert: Convert | None


@dataclass(frozen=True)
class GroupEntity:
    """A group's key as the row of its grouping's entity (an institution), null for none."""

    key: str
    node: NodeShape


GroupEntry = Constant | GroupColumn | GroupEntity


@dataclass(frozen=True)
class GroupsShape:
    key: str
    entries: tuple[GroupEntry, ...]


@dataclass(frozen=True)
class BreakdownPage:
    """A breakdown asked for under `key`: its largest `size` groups; `parts` are its page's
    fields (totalGroups is a Value of column TOTAL_GROUPS)."""

    key: str
    breakdown: Breakdown
    size: int
    parts: tuple[Constant | Value | GroupsShape, ...]


StatsPart = Constant | Measured | BreakdownPage


@dataclass(frozen=True)
class StatsShape:
    """A stats root field: its parts, each over the `model` rows that match `where` (the
    WHERE of the list it counts, as its resolver makes it)."""

    key: str
    model: type[Base]
    where: tuple[ColumnElement[bool], ...]
    parts: tuple[StatsPart, ...]

    @property
    def measured(self) -> dict[str, Measures]:
        """The measures its statement computes, once each, by field name."""
        return {part.name: part.measures for part in self.parts if isinstance(part, Measured)}

    @property
    def breakdowns(self) -> list[BreakdownPage]:
        return [part for part in self.parts if isinstance(part, BreakdownPage)]

"""What a planned `search` reads: its answer's fields, and the nodes its hits are.

The answer is the one the resolver builds (schema/search.py `search_results`), made from the
same counts and hits; a `Pick` says which of its fields the document asks for, under which
response key.  Only the hits' nodes are read otherwise: each selection of `SearchHit.node` is
a `Slot`, the shape of each kind of node the hit may be (planner/plan.py's NodeShape), read by
the search's one statement beside the hit.
"""

from dataclasses import dataclass
from typing import Literal

from atmp_graph.schema.planner.plan import NodeShape

# How a field's value is given: as it is; an enum by its GraphQL name; the type's name; an
# object or a list of objects, field by field; the hits of the page (SearchResults.hits); a
# hit's node, from its slot.
PickKind = Literal["value", "enum", "typename", "object", "list", "hits", "node"]


@dataclass(frozen=True)
class Pick:
    key: str
    kind: PickKind
    attribute: str = ""  # the Python attribute the value is read from
    picks: tuple["Pick", ...] = ()  # of an object, or of each object of a list
    type_name: str = ""  # of a `typename`
    slot: int = -1  # of a `node`


# A node selection's shape for each kind of node a hit may be, by entity type.
Slot = tuple[tuple[str, NodeShape], ...]

"""`node(id:)`: any node by its global id, and null for an id that names none.

Strawberry's own `relay.node()` answers an id it cannot read (not base64, or naming a type that
is not a node) with an error; to a client it is the same as an id no node has.
"""

import inspect
from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.relay.types import GlobalIDValueError
from strawberry.types.cast import cast

from atmp_graph.schema.context import Info


@strawberry.type
class NodeQuery:
    @strawberry.field(description="Any node, by its global id; null when no node has that id.")
    async def node(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The ID of the object.")],
    ) -> relay.Node | None:
        try:
            global_id = relay.GlobalID.from_id(id)
            node_type = global_id.resolve_type(info)
        except GlobalIDValueError:
            return None
        found = node_type.resolve_node(global_id.node_id, info=info, required=False)
        if inspect.isawaitable(found):
            found = await found
        # Cast, so Strawberry need not work out which type the node is all over again.
        return None if found is None else cast(node_type, found)

"""The whole graph as one canonical value, read over GraphQL, so two databases can be compared.

The queries are built from the schema's introspection, so a field added to a type is compared
without touching this module:

- every top-level list of entities (`trials`, `institutions`, …) is read whole, page by page,
  with all its fields;
- a scalar or enum field is its value;
- a field that points at another node (a relation) is that node's label: a few fields that say
  which node it is (an institution's name, a trial's registry ids), never its global id;
- a field that points at a value with no id of its own (a trial site, a signatory, a source
  record) is that value, read the same way one level down;
- the quarantine is the (feed, source id, field, reason) of each feed's latest run.

What a run decides rather than the data (global ids, when a record was fetched, the ingest runs
with their numbers, times and created/updated counts) is left out, and so are fields that take
arguments and lists of things that are not entities (review queues and the like).  Every list is
sorted, so equal graphs give equal snapshots whatever order their rows were written in: a list
such as an institution's aliases is compared as a set.
"""

import json
from typing import Any

from tests.conftest import GraphQLClient

PAGE_SIZE = 100  # the most a connection gives at once (schema/pagination.py MAX_PAGE)

# Fields whose value depends on the run or the deployment, not on the data (content hashes are
# shown keyed with each database's own secret).
RUN_DEPENDENT_FIELDS = frozenset({"id", "fetchedAt", "contentHash"})

# Top-level lists of entities left out: ingest runs are the run's own bookkeeping.
SKIPPED_LISTS = frozenset({"ingestRuns"})

# The fields that name a node where another node points at it; other types use the first of
# LABEL_FALLBACK they have.  A trial is named by its registry ids, the only fields every feed
# agrees on.
LABELS = {
    "ClinicalTrial": ("nctId", "eudractId", "euctId"),
    "Project": ("code", "title"),
    "Agreement": ("key",),
}
LABEL_FALLBACK = ("name", "code", "title", "key")

QUARANTINE_FIELDS = ("feed", "sourceId", "field", "reason")

_INTROSPECTION = """
fragment TypeRef on __Type {
  kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } }
}
{
  __schema {
    queryType { fields { name args { name } type { ...TypeRef } } }
    types { name kind interfaces { name } fields { name args { name } type { ...TypeRef } } }
  }
}"""

Json = Any


def _named(type_ref: dict[str, Any]) -> dict[str, Any]:
    """The named type under any NON_NULL and LIST wrappers."""
    while type_ref["ofType"] is not None:
        type_ref = type_ref["ofType"]
    return type_ref


class _Selections:
    """GraphQL selection sets for the schema's types, from its introspection."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.types = {t["name"]: t for t in schema["types"]}
        self.query_fields = schema["queryType"]["fields"]

    def _fields(self, type_name: str) -> list[dict[str, Any]]:
        return [
            f
            for f in self.types[type_name]["fields"] or []
            if f["name"] not in RUN_DEPENDENT_FIELDS
            and not f["name"].startswith("__")
            and not f["args"]
        ]

    def _is_node(self, type_name: str) -> bool:
        return any(i["name"] == "Node" for i in self.types[type_name]["interfaces"] or [])

    def label(self, type_name: str) -> str:
        """The fields that name a node of this type (its kind alone, for an interface)."""
        names = {f["name"] for f in self._fields(type_name)}
        chosen = LABELS.get(type_name) or [name for name in LABEL_FALLBACK if name in names][:1]
        return " ".join(chosen) or "__typename"

    def whole(self, type_name: str, depth: int = 0) -> str:
        """Every field of the type; relations as labels, values with no id expanded."""
        parts = []
        for field in self._fields(type_name):
            target = _named(field["type"])
            if target["kind"] in ("SCALAR", "ENUM"):
                parts.append(field["name"])
            elif self._is_node(target["name"]):
                parts.append(f"{field['name']} {{ {self.label(target['name'])} }}")
            elif depth < 2:
                parts.append(f"{field['name']} {{ {self.whole(target['name'], depth + 1)} }}")
        return " ".join(parts)

    def entity_lists(self) -> dict[str, str]:
        """Each top-level connection of entities, by field name, with its node type."""
        lists = {}
        for field in self.query_fields:
            connection = self.types[_named(field["type"])["name"]]
            nodes = next((f for f in connection["fields"] or [] if f["name"] == "nodes"), None)
            if nodes is None or field["name"] in SKIPPED_LISTS:
                continue
            node_type = _named(nodes["type"])["name"]
            interfaces = {i["name"] for i in self.types[node_type]["interfaces"] or []}
            if "Entity" in interfaces:
                lists[field["name"]] = node_type
        return lists


def _read_all(client: GraphQLClient, field: str, selection: str) -> list[Json]:
    query = f"""
      query($after: String) {{
        {field}(first: {PAGE_SIZE}, after: $after) {{
          pageInfo {{ hasNextPage endCursor }}
          nodes {{ {selection} }}
        }}
      }}"""
    nodes: list[Json] = []
    after = None
    while True:
        page = client.execute(query, {"after": after})[field]
        nodes += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]


def canonical(value: Json) -> Json:
    """The value with every list sorted (by each item's JSON), at every depth."""
    if isinstance(value, dict):
        return {key: canonical(item) for key, item in sorted(value.items())}
    if isinstance(value, list):
        items = [canonical(item) for item in value]
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
    return value


def graph_snapshot(client: GraphQLClient) -> dict[str, Json]:
    """Every entity of the graph and the latest quarantine, id-free and sorted."""
    selections = _Selections(client.execute(_INTROSPECTION)["__schema"])
    snapshot = {
        field: _read_all(client, field, selections.whole(node_type))
        for field, node_type in selections.entity_lists().items()
    }
    snapshot["quarantinedRecords"] = _read_all(
        client, "quarantinedRecords", " ".join(QUARANTINE_FIELDS)
    )
    return dict(canonical(snapshot))


def _name(node: Json) -> str:
    """What a reader calls the node in a message."""
    for field in ("nctId", *LABEL_FALLBACK, "sourceId"):
        if isinstance(node, dict) and node.get(field):
            return str(node[field])
    return json.dumps(node, ensure_ascii=False)[:60]


def changed_nodes(expected: dict[str, Json], actual: dict[str, Json]) -> list[str]:
    """One line per top-level list that differs: the nodes only one snapshot has, by name."""
    lines = []
    for field in sorted(expected.keys() | actual.keys()):
        before, after = expected.get(field, []), actual.get(field, [])
        gone = [_name(node) for node in before if node not in after]
        new = [_name(node) for node in after if node not in before]
        if gone or new:
            lines.append(f"{field} that differ: expected {gone}; got {new}")
    return lines


def to_text(snapshot: dict[str, Json]) -> str:
    """The snapshot as indented JSON, one value a line, for diffs."""
    return json.dumps(snapshot, indent=1, sort_keys=True, ensure_ascii=False)

"""The search index on SQLite: an FTS5 table kept by row triggers.

FTS5's bm25 judges a column's length against that column's average, which punishes a field
only a few kinds have (an NCT id is one word against an average near nothing), so the text goes
into one column per weight class, `a`, `b`, `c`, each the kind's fields of that class in
`FIELDS` order with a separator after each (a character the tokenizer splits on), and `fields`
names them: `title,acronym,|aliases,|`.  model/search_query.py splits a highlight back into
its fields.  The rowid is the node's id * 8 + its kind's number, so a trigger finds a document
without a scan.
"""

from collections.abc import Iterator

from atmp_graph.model.search_documents import (
    FIELDS,
    KINDS,
    TABLE,
    WEIGHTS,
    Kind,
    Watch,
    field_sql,
    gone,
    triggers,
)

ROWID_STRIDE = 8
SEPARATOR = "\x1f"  # after each field's text in a weight class's column
COLUMNS = ("entity_type", "entity_id", "fields", *(w.lower() for w in WEIGHTS))


def _class_columns(kind: Kind) -> tuple[list[str], str]:
    """(each weight class's text, the names of the fields present), as SQL."""
    texts, names = [], []
    for weight in WEIGHTS:
        present = [
            (name, f"NULLIF({field_sql(kind, name, 'sqlite')}, '')")
            for name, w in FIELDS.items()
            if w == weight and name in kind.fields
        ]
        text = " || ".join(f"coalesce({value} || char(31), '')" for _, value in present)
        named = " || ".join(
            f"CASE WHEN {value} IS NULL THEN '' ELSE '{name},' END" for name, value in present
        )
        texts.append(text or "''")
        names.append(named or "''")
    return texts, " || '|' || ".join(f"({n})" for n in names)


def document(kind: Kind, where: str) -> str:
    """INSERT of the documents of the kind's live rows k that `where` picks."""
    texts, names = _class_columns(kind)
    live = " AND k.retired_at IS NULL" if kind.retirable else ""
    selected = ", ".join(
        [f"k.id * {ROWID_STRIDE} + {kind.number}", f"'{kind.entity_type}'", "k.id", names, *texts]
    )
    return (
        f"INSERT INTO {TABLE} (rowid, {', '.join(COLUMNS)}) "
        f"SELECT {selected} FROM {kind.entity_type} k {kind.joins} WHERE ({where}){live}"
    )


def statements() -> Iterator[str]:
    """The FTS5 table and its triggers."""
    columns = ", ".join(
        [
            "entity_type UNINDEXED",
            "entity_id UNINDEXED",
            "fields UNINDEXED",
            *(w.lower() for w in WEIGHTS),
            "tokenize = 'unicode61 remove_diacritics 2'",
        ]
    )
    yield f"CREATE VIRTUAL TABLE {TABLE} USING fts5({columns})"
    for name, table, event, refreshes in triggers():
        body = [s for kind, watch in refreshes for s in _refresh(kind, watch, event)]
        if event == "update":
            watched = sorted({column for _, watch in refreshes for column in watch.columns})
            on = f"UPDATE OF {', '.join(watched)}"
        else:
            on = event.upper()
        yield (
            f"CREATE TRIGGER {name} AFTER {on} ON {table} "
            f"BEGIN {' '.join(f'{s};' for s in body)} END"
        )


def _refresh(kind: Kind, watch: Watch, event: str) -> Iterator[str]:
    rows = {"insert": ["NEW"], "delete": ["OLD"], "update": ["OLD", "NEW"]}[event]
    values = ", ".join(f"{row}.{watch.column}" for row in rows)
    changed = ""
    if event == "update":
        differs = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in watch.columns)
        changed = f" AND ({differs})"
    if watch.kind_column == "id":
        keys = ", ".join(f"{row}.{watch.column} * {ROWID_STRIDE} + {kind.number}" for row in rows)
    else:
        keys = (
            f"SELECT x.id * {ROWID_STRIDE} + {kind.number} FROM {kind.entity_type} x "
            f"WHERE x.{watch.kind_column} IN ({values})"
        )
    yield f"DELETE FROM {TABLE} WHERE rowid IN ({keys}){changed}"
    if not gone(kind, watch, event):
        yield document(kind, f"k.{watch.kind_column} IN ({values}){changed}")


def rebuild() -> Iterator[str]:
    """Index every live node."""
    for kind in KINDS:
        yield document(kind, "1 = 1")


def tables() -> frozenset[str]:
    """The FTS5 table and its shadow tables."""
    shadows = ("data", "idx", "content", "docsize", "config")
    return frozenset({TABLE, *(f"{TABLE}_{shadow}" for shadow in shadows)})


def split_fields(fields: str, weight_index: int, text: str) -> dict[str, str]:
    """One weight class's (highlighted) column text, field by field."""
    names = fields.split("|")[weight_index].split(",")[:-1]
    return dict(zip(names, text.split(SEPARATOR)[:-1], strict=False))

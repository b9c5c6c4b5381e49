"""What the search index holds: the public text of seven kinds of node, and what changes it.

One document per live node: the fields in `FIELDS` that its kind has (SQL over its row `k`),
never a partnership's terms, never a value that lost to another feed's (a node's columns hold
the winners).  Each `Watch` says which changes of which table change whose documents, which is
what the triggers of model/search_sqlite.py and model/search_postgres.py are made from.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field

TABLE = "search_index"
# The index's columns after (entity_type, entity_id): each the field of that name on the hit's
# GraphQL type (camelCase there), with its weight class in ranking (A names and ids, B other
# names, C descriptions).
FIELDS: dict[str, str] = {
    "title": "A", "name": "A", "acronym": "A", "short_name": "A", "code": "A",
    "nct_id": "A", "eudract_id": "A", "euct_id": "A", "ror_id": "A",
    "registration_number": "A", "orcid": "A", "mesh_id": "A", "icd10": "A", "mondo_id": "A",
    "aliases": "B", "partner": "B", "local_id": "B",
    "summary": "C", "lead_unit": "C", "modality": "C", "city": "C",
}  # fmt: skip
# bm25's weight of each class on SQLite; PostgreSQL's ts_rank_cd weighs them 1, 0.4 and 0.2.
WEIGHTS = {"A": 5.0, "B": 2.0, "C": 1.0}
# A record's language, from its institution's country; anything else is english.
LANGUAGES = {"SE": "swedish", "NL": "dutch"}
# PostgreSQL's text search configurations, `atmp_<name>`: a record's language, english, and
# simple (its words as they are: names, ids).
CONFIGURATIONS = ("swedish", "dutch", "english", "simple")
ALIAS_SEPARATOR = " | "


def configuration(language: str) -> str:
    """The PostgreSQL text search configuration of a language (or `simple`)."""
    return f"atmp_{language}"


@dataclass(frozen=True)
class Watch:
    """A change to a row r of `table` (in `columns`) changes the documents of the kind's rows k
    with k.`kind_column` = r.`column`."""

    table: str
    columns: tuple[str, ...]
    column: str = "id"
    kind_column: str = "id"


@dataclass(frozen=True)
class Kind:
    """One kind of node in the index: its fields as SQL over its row `k` (and `joins`)."""

    entity_type: str
    number: int
    fields: dict[str, str]
    # SQL naming the country the record's language comes from (None: `language` decides).
    country: str | None = None
    language: str = "english"
    joins: str = ""
    retirable: bool = True
    watches: tuple[Watch, ...] = field(default_factory=tuple)


def _aliases(table: str, key: str) -> str:
    # A placeholder the dialect fills in (`_aggregate`): other names, in the order they came.
    return f"{{aliases:{table}:{key}}}"


KINDS: tuple[Kind, ...] = (
    Kind(
        "clinical_trial",
        1,
        {name: f"k.{name}" for name in
         ("title", "acronym", "nct_id", "eudract_id", "euct_id", "local_id")},
        country="i.country",
        joins="LEFT JOIN institution i ON i.id = k.sponsor_id",
        watches=(
            Watch("clinical_trial", ("title", "acronym", "nct_id", "eudract_id", "euct_id",
                                     "local_id", "retired_at", "sponsor_id")),
            Watch("institution", ("country",), kind_column="sponsor_id"),
        ),
    ),
    Kind(
        "project",
        2,
        {name: f"k.{name}" for name in ("title", "code", "summary", "lead_unit")},
        country="i.country",
        joins="LEFT JOIN institution i ON i.id = k.lead_institution_id",
        watches=(
            Watch("project", ("title", "code", "summary", "lead_unit", "retired_at",
                              "lead_institution_id")),
            Watch("institution", ("country",), kind_column="lead_institution_id"),
        ),
    ),
    Kind(
        "product",
        3,
        {name: f"k.{name}" for name in ("name", "code", "modality")},
        country="coalesce(maker.country, origin.country)",
        joins="LEFT JOIN institution maker ON maker.id = k.manufacturer_id "
        "LEFT JOIN institution origin ON origin.id = k.originator_id",
        watches=(
            Watch("product", ("name", "code", "modality", "retired_at", "manufacturer_id",
                              "originator_id")),
            Watch("institution", ("country",), kind_column="manufacturer_id"),
            Watch("institution", ("country",), kind_column="originator_id"),
        ),
    ),
    Kind(
        "institution",
        4,
        {
            **{name: f"k.{name}" for name in
               ("name", "short_name", "ror_id", "registration_number", "city")},
            "aliases": _aliases("institution_alias", "institution_id"),
        },
        country="k.country",
        watches=(
            Watch("institution", ("name", "short_name", "ror_id", "registration_number",
                                  "city", "country", "retired_at")),
            Watch("institution_alias", ("alias", "institution_id"), column="institution_id"),
        ),
    ),
    Kind(
        "condition",
        5,
        {
            **{name: f"k.{name}" for name in ("name", "mesh_id", "icd10", "mondo_id")},
            "aliases": _aliases("condition_alias", "condition_id"),
        },
        retirable=False,
        watches=(
            Watch("condition", ("name", "mesh_id", "icd10", "mondo_id")),
            Watch("condition_alias", ("alias", "condition_id"), column="condition_id"),
        ),
    ),
    # A name is no word to stem.
    Kind(
        "person",
        6,
        {"name": "k.name", "orcid": "k.orcid"},
        language="simple",
        retirable=False,
        watches=(Watch("person", ("name", "orcid")),),
    ),
    # Only a partnership's public text: its code and its company's name (the terms are in a
    # table of their own, which nothing here reads).
    Kind(
        "partnership",
        7,
        {"code": "k.code", "partner": "i.name"},
        country="i.country",
        joins="LEFT JOIN institution i ON i.id = k.partner_id",
        watches=(
            Watch("partnership", ("code", "partner_id", "retired_at")),
            Watch("institution", ("name", "country"), kind_column="partner_id"),
        ),
    ),
)  # fmt: skip
KIND_BY_TYPE = {kind.entity_type: kind for kind in KINDS}
EVENTS = ("insert", "update", "delete")


# -- what both databases share -------------------------------------------------------------


def field_sql(kind: Kind, name: str, dialect: str) -> str:
    """The SQL of one of the kind's fields (NULL for a field it lacks)."""
    return _aggregate(kind.fields[name], dialect) if name in kind.fields else "NULL"


def _aggregate(expression: str, dialect: str) -> str:
    """Fill in the alias placeholders of a field's SQL for `dialect`."""
    if not expression.startswith("{aliases:"):
        return expression
    table, key = expression.strip("{}").split(":")[1:]
    where = f"a.{key} = k.id AND a.alias <> k.name"
    if dialect == "postgresql":
        return (
            f"(SELECT string_agg(a.alias, '{ALIAS_SEPARATOR}' ORDER BY a.id) "
            f"FROM {table} a WHERE {where})"
        )
    # SQLite's group_concat keeps the order of an ordered subquery.
    return (
        f"(SELECT group_concat(alias, '{ALIAS_SEPARATOR}') FROM "
        f"(SELECT a.alias FROM {table} a WHERE {where} ORDER BY a.id))"
    )


def watching(table: str) -> Iterator[tuple[Kind, Watch]]:
    for kind in KINDS:
        for watch in kind.watches:
            if watch.table == table:
                yield kind, watch


def watched_tables() -> list[str]:
    return list(dict.fromkeys(watch.table for kind in KINDS for watch in kind.watches))


def events(watch: Watch) -> tuple[str, ...]:
    # What another table says of a node (its institution's country or name) changes by
    # update; its insert comes before the node names it, and its delete after (a merge
    # re-points the node first).
    return EVENTS if watch.kind_column == "id" else ("update",)


def gone(kind: Kind, watch: Watch, event: str) -> bool:
    """Whether the change deleted the node itself (nothing to index again)."""
    return event == "delete" and watch.table == kind.entity_type


def triggers() -> Iterator[tuple[str, str, str, list[tuple[Kind, Watch]]]]:
    """Each trigger the index needs: (its name, its table, its event, what it refreshes)."""
    for table in watched_tables():
        for event in EVENTS:
            refreshes = [(k, w) for k, w in watching(table) if event in events(w)]
            if refreshes:
                yield f"{TABLE}_{table}_{event}", table, event, refreshes


def trigger_names() -> set[str]:
    return {name for name, *_ in triggers()}

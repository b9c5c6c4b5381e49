"""The search index on PostgreSQL: a GIN-indexed tsvector, kept by statement triggers.

Each document's `language` is the text search configuration of its record's language (from
its institution's country: model/search_documents.py); its `document` holds each
weight class's words under that language, under english when that is another (the partners'
exports mix English in: LUMC's is English throughout, registry titles always are) and under
`simple` (the words as they are: names, ids).  Row triggers keep it, each of their statements
a lookup by key.

The `atmp_<language>` configurations put `unaccent` before each stemmer.  The extension belongs
to the database: it is created in `public` where there is one (an application schema's DROP
SCHEMA ... CASCADE would take it from every other schema), and where the role may not create
it the configurations do without, which the log says once.
"""

import logging
from collections.abc import Iterator

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from atmp_graph.model.search_documents import (
    CONFIGURATIONS,
    FIELDS,
    KINDS,
    LANGUAGES,
    TABLE,
    WEIGHTS,
    Kind,
    Watch,
    configuration,
    field_sql,
    gone,
    trigger_names,
    triggers,
)

logger = logging.getLogger("atmp_graph.search")

_WORD_TOKENS = "word, hword, hword_part, numword, numhword, hword_numpart"
_STEMMERS = {"swedish": "swedish_stem", "dutch": "dutch_stem", "english": "english_stem"}


def _language(kind: Kind) -> str:
    if kind.country is None:
        return f"'{configuration(kind.language)}'::regconfig"
    cases = " ".join(
        f"WHEN '{country}' THEN '{configuration(language)}'"
        for country, language in LANGUAGES.items()
    )
    return f"(CASE {kind.country} {cases} ELSE '{configuration(kind.language)}' END)::regconfig"


def document(kind: Kind, where: str) -> str:
    """INSERT of the documents of the kind's live rows k that `where` picks."""
    values = [f"{field_sql(kind, name, 'postgresql')} AS {name}" for name in FIELDS]
    live = " AND k.retired_at IS NULL" if kind.retirable else ""
    selected = ", ".join(
        [f"'{kind.entity_type}' AS entity_type", "k.id AS entity_id",
         f"{_language(kind)} AS language", *values]
    )  # fmt: skip
    return (
        f"INSERT INTO {TABLE} (entity_type, entity_id, language, {', '.join(FIELDS)}, document) "
        f"SELECT d.*, {_vector_call()} FROM (SELECT {selected} FROM {kind.entity_type} k "
        f"{kind.joins} WHERE ({where}){live}) d"
    )


VECTOR = f"{TABLE}_vector"


def _vector_function() -> str:
    """The function that makes a document's tsvector from its language and the text of each
    weight class: each under the language, under english when that is another, and simple.

    A function of plpgsql, so that its expression is prepared once per transaction; spelled out
    in the trigger's INSERT, or as a generated column, it was prepared again for every row, which
    cost more than the words themselves."""
    english, simple = (f"'{configuration(name)}'::regconfig" for name in ("english", "simple"))
    parts = []
    for n, weight in enumerate(WEIGHTS, start=1):
        words = f"${n + 1}"
        parts += [
            f"setweight(to_tsvector($1, {words}), '{weight}')",
            f"setweight(CASE WHEN $1 IN ({english}, {simple}) THEN ''::tsvector "
            f"ELSE to_tsvector({english}, {words}) END, '{weight}')",
            f"setweight(to_tsvector({simple}, {words}), '{weight}')",
        ]
    arguments = ", ".join(["regconfig", *("text" for _ in WEIGHTS)])
    return (
        f"CREATE FUNCTION {VECTOR}({arguments}) RETURNS tsvector LANGUAGE plpgsql IMMUTABLE "
        f"AS $$ BEGIN RETURN {' || '.join(parts)}; END $$"
    )


def _vector_call() -> str:
    """The call of the vector function on a document's columns."""
    texts = [
        " || ' ' || ".join(f"coalesce({name}, '')" for name, w in FIELDS.items() if w == weight)
        for weight in WEIGHTS
    ]
    return f"{VECTOR}(language, {', '.join(texts)})"


def statements(unaccent: str | None) -> Iterator[str]:
    """The configurations, the table, its index and its triggers."""
    for language in CONFIGURATIONS:
        name = configuration(language)
        yield f"CREATE TEXT SEARCH CONFIGURATION {name} (COPY = pg_catalog.{language})"
        if unaccent is not None:
            stem = _STEMMERS.get(language, "simple")
            yield (
                f"ALTER TEXT SEARCH CONFIGURATION {name} ALTER MAPPING FOR {_WORD_TOKENS} "
                f"WITH {unaccent}, {stem}"
            )
    yield _vector_function()
    fields = ", ".join(f"{name} text" for name in FIELDS)
    yield (
        f"CREATE TABLE {TABLE} (entity_type varchar(60) NOT NULL, entity_id integer NOT NULL, "
        f"language regconfig NOT NULL, {fields}, "
        "document tsvector NOT NULL, "
        f"CONSTRAINT pk_{TABLE} PRIMARY KEY (entity_type, entity_id))"
    )
    # Without a pending list (fastupdate), the planner takes the index at once after a bulk
    # ingest, rather than scanning every document until a VACUUM merges the list.
    yield (
        f"CREATE INDEX ix_{TABLE}_document ON {TABLE} USING gin (document) WITH (fastupdate = off)"
    )
    for name, table, event, refreshes in triggers():
        body = " ".join(f"{s};" for kind, watch in refreshes for s in _refresh(kind, watch, event))
        yield (
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql "
            f"AS $$ BEGIN {body} RETURN NULL; END $$"
        )
        if event == "update":
            watched = sorted({column for _, watch in refreshes for column in watch.columns})
            on = f"UPDATE OF {', '.join(watched)}"
        else:
            on = event.upper()
        yield (
            f"CREATE TRIGGER {name} AFTER {on} ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()"
        )


def _refresh(kind: Kind, watch: Watch, event: str) -> Iterator[str]:
    """What one changed row does to the index: its documents out, and back as they are now.

    Row triggers, each statement a lookup by key: a statement trigger's transition table has no
    statistics, and the plans made for it scanned whole tables once a table had grown."""
    rows = {"insert": ["NEW"], "delete": ["OLD"], "update": ["OLD", "NEW"]}[event]
    values = ", ".join(f"{row}.{watch.column}" for row in rows)
    if watch.kind_column == "id":
        ids = values
    else:
        ids = f"SELECT x.id FROM {kind.entity_type} x WHERE x.{watch.kind_column} IN ({values})"
    statements = [
        f"DELETE FROM {TABLE} WHERE entity_type = '{kind.entity_type}' AND entity_id IN ({ids})"
    ]
    if not gone(kind, watch, event):
        statements.append(document(kind, f"k.{watch.kind_column} IN ({values})"))
    if event != "update":
        yield from statements
        return
    new = ", ".join(f"NEW.{column}" for column in watch.columns)
    old = ", ".join(f"OLD.{column}" for column in watch.columns)
    yield (
        f"IF ROW({new}) IS DISTINCT FROM ROW({old}) THEN "
        f"{' '.join(f'{s};' for s in statements)} END IF"
    )


def rebuild() -> Iterator[str]:
    """Index every live node."""
    for kind in KINDS:
        yield document(kind, "1 = 1")


def drop() -> Iterator[str]:
    """Drop the triggers, their functions, the table and the configurations."""
    for name, table, _, _ in triggers():
        yield f"DROP TRIGGER IF EXISTS {name} ON {table}"
        yield f"DROP FUNCTION IF EXISTS {name}()"
    yield f"DROP TABLE IF EXISTS {TABLE}"
    yield f"DROP FUNCTION IF EXISTS {VECTOR}"
    for language in CONFIGURATIONS:
        yield f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {configuration(language)}"


def unaccent_dictionary(connection: Connection) -> str | None:
    """The `unaccent` dictionary, creating the extension where the role may; None where not."""
    if (found := unaccent_schema(connection)) is not None:
        return f'"{found}".unaccent'
    public = connection.scalar(text("SELECT count(*) FROM pg_namespace WHERE nspname = 'public'"))
    schema = "public" if public else connection.scalar(text("SELECT current_schema()"))
    try:
        with connection.begin_nested():
            connection.execute(text(f'CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA "{schema}"'))
    except DBAPIError as error:
        # No privilege, or another session created it at the same moment (then it is there).
        if unaccent_schema(connection) is None:
            logger.warning(
                "search: the unaccent extension could not be created (%s); searches match "
                "accented letters only as written (Skåne, not skane). Once a superuser has run "
                "CREATE EXTENSION unaccent, `atmp-graph db upgrade` rebuilds the index with it.",
                str(error.orig or error).strip().splitlines()[0],
            )
            return None
    return f'"{unaccent_schema(connection)}".unaccent'


def unaccent_schema(connection: Connection) -> str | None:
    schema: str | None = connection.scalar(
        text(
            "SELECT n.nspname FROM pg_extension e "
            "JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'unaccent'"
        )
    )
    return schema


def unaccented(connection: Connection) -> bool:
    """Whether this schema's configurations strip accents."""
    return bool(
        connection.scalar(
            text(
                "SELECT count(*) FROM pg_ts_config_map m "
                "JOIN pg_ts_config c ON c.oid = m.mapcfg JOIN pg_ts_dict d ON d.oid = m.mapdict "
                "WHERE c.cfgname = :name AND c.cfgnamespace = "
                "(SELECT oid FROM pg_namespace WHERE nspname = current_schema()) "
                "AND d.dictname = 'unaccent'"
            ),
            {"name": configuration("simple")},
        )
    )


def present(connection: Connection) -> bool:
    return bool(connection.scalar(text("SELECT to_regclass(:name) IS NOT NULL"), {"name": TABLE}))


def triggers_present(connection: Connection) -> set[str]:
    found = connection.execute(
        text(
            "SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE c.relnamespace = "
            "(SELECT oid FROM pg_namespace WHERE nspname = current_schema())"
        )
    )
    return {name for (name,) in found} & trigger_names()

"""The full-text index `search` reads, kept current by the database itself.

What it holds is declared once (model/search_documents.py) and built for each database:
SQLite's FTS5 (model/search_sqlite.py), PostgreSQL's tsvector (model/search_postgres.py).
Triggers on the node tables, their alias tables and the institutions they name write it, so
every path that changes a node (the ORM writers, the bulk inserts, curation, merges and
splits, retirement) keeps it current in the same transaction, and no caller can forget to.
A retired node is left out; a merged-away node, whose row is deleted, drops out with it.

The index is derived data: `install` drops and rebuilds it whole (a migration that changes
what it holds calls it again), and `ensure`, run after every upgrade, re-installs it when a
trigger is missing (SQLite's batch migrations re-create a table without its triggers) or when
PostgreSQL's `unaccent` became available since it was built.
"""

from sqlalchemy import Connection, text

from atmp_graph.model import search_postgres, search_sqlite
from atmp_graph.model.search_documents import TABLE, trigger_names

__all__ = [
    "TABLE",
    "ensure",
    "install",
    "missing_triggers",
    "present",
    "tables",
    "unaccented",
    "uninstall",
]


def tables(dialect: str) -> frozenset[str]:
    """The tables the index consists of (outside the ORM's metadata)."""
    return search_sqlite.tables() if dialect == "sqlite" else frozenset({TABLE})


def uninstall(connection: Connection) -> None:
    """Drop the index and all that keeps it (not PostgreSQL's unaccent: the database's)."""
    if connection.dialect.name == "postgresql":
        statements = list(search_postgres.drop())
    else:
        statements = [f"DROP TRIGGER IF EXISTS {name}" for name in sorted(trigger_names())]
        statements.append(f"DROP TABLE IF EXISTS {TABLE}")
    for statement in statements:
        connection.execute(text(statement))


def install(connection: Connection) -> None:
    """(Re)build the index and its triggers, and index every live node."""
    uninstall(connection)
    if connection.dialect.name == "postgresql":
        unaccent = search_postgres.unaccent_dictionary(connection)
        statements = [*search_postgres.statements(unaccent), *search_postgres.rebuild()]
    else:
        statements = [*search_sqlite.statements(), *search_sqlite.rebuild()]
    for statement in statements:
        connection.execute(text(statement))


def present(connection: Connection) -> bool:
    """Whether the index's migration has run."""
    if connection.dialect.name == "postgresql":
        return search_postgres.present(connection)
    found = connection.scalar(
        text("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = :name"),
        {"name": TABLE},
    )
    return bool(found)


def missing_triggers(connection: Connection) -> set[str]:
    """The index's triggers that the database lacks."""
    if connection.dialect.name == "postgresql":
        present = search_postgres.triggers_present(connection)
    else:
        rows = connection.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
        present = {name for (name,) in rows}
    return trigger_names() - present


def unaccented(connection: Connection) -> bool:
    """Whether searches find accented letters typed without (always, on SQLite)."""
    return connection.dialect.name != "postgresql" or search_postgres.unaccented(connection)


def ensure(connection: Connection) -> bool:
    """Re-install the index where it lost a trigger, or could strip accents and does not;
    whether it did.  Nothing happens before the migration that makes it."""
    if not present(connection):
        return False
    stale = (
        connection.dialect.name == "postgresql"
        and not search_postgres.unaccented(connection)
        and search_postgres.unaccent_schema(connection) is not None
    )
    if not (missing_triggers(connection) or stale):
        return False
    install(connection)
    return True

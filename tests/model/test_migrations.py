"""Alembic builds the whole model from an empty database, on SQLite and PostgreSQL alike."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from atmp_graph.model import Base
from atmp_graph.model.database import alembic_config, make_engine, upgrade


def test_upgrade_from_empty_creates_every_table_and_matches_the_model(database_url: str) -> None:
    upgrade(database_url)

    engine = make_engine(database_url)
    try:
        tables = set(inspect(engine).get_table_names())
        assert tables == set(Base.metadata.tables) | {"alembic_version"}
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert differences == [], "the model changed: add an Alembic migration"
    finally:
        engine.dispose()


def test_upgrade_twice_is_harmless(database_url: str) -> None:
    upgrade(database_url)
    upgrade(database_url)

    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
        head = ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()
        assert current == head
    finally:
        engine.dispose()

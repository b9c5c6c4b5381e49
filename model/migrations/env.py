"""Alembic environment: runs the migrations against the URL that model.database passes in."""

from alembic import context
from sqlalchemy import create_engine, pool

from atmp_graph.model import Base, search_index
from atmp_graph.model.database import sync_url

config = context.config
url = config.get_main_option("sqlalchemy.url")
assert url is not None


def include_name(name, type_, parent_names):  # type: ignore[no-untyped-def]
    """Autogenerate leaves the search index alone: it is no ORM table (model/search_index.py)."""
    return not (type_ == "table" and name in search_index.tables("sqlite"))


def run_migrations_offline() -> None:
    context.configure(
        url=url, target_metadata=Base.metadata, render_as_batch=True, include_name=include_name
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_engine(sync_url(url), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=True,
            include_name=include_name,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

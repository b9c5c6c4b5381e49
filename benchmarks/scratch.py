"""A throwaway database for a benchmark: a SQLite file, or a PostgreSQL schema dropped after."""

import argparse
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def add_postgres_option(parser: argparse.ArgumentParser) -> None:
    """`--postgres [URL]`: run on PostgreSQL instead of SQLite."""
    parser.add_argument(
        "--postgres",
        metavar="URL",
        nargs="?",
        const=POSTGRES,
        help="use this PostgreSQL database, in scratch schemas dropped afterwards "
        "(default: temporary SQLite files)",
    )


@contextmanager
def scratch_database(postgres: str | None, workdir: Path, name: str) -> Iterator[str]:
    if postgres is None:
        yield f"sqlite:///{workdir / name}.db"
        return
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{postgres}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

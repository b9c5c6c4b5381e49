"""The tests' databases: an empty one per test, and a migrated one copied from a template.

Running the migrations took a test about a second; copying a database migrated once per test
process takes a few milliseconds on SQLite (a file copy) and about 0.1 s on PostgreSQL
(`CREATE DATABASE … TEMPLATE`, which is why each PostgreSQL test has a database of its own
rather than a schema).  A copy is the same database the migrations make: the template is
made by `upgrade`, and a test that runs the migrations itself still can.
"""

import functools
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from atmp_graph.model.database import upgrade

POSTGRES_URL = os.environ.get(
    "ATMP_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@functools.cache
def databases() -> "Databases":
    """This test process's databases (pytest-xdist runs several processes, each its own)."""
    return Databases(POSTGRES_URL)


def migrate(url: str) -> None:
    """Bring the empty test database at `url` to the migrations' head (`Databases.migrate`)."""
    databases().migrate(url)


class Databases:
    """One test process's databases on the PostgreSQL server at `server_url` and in files."""

    def __init__(self, server_url: str) -> None:
        self.server = sa.make_url(server_url)
        self.directory = Path(tempfile.mkdtemp(prefix="atmp-templates-"))
        self.created: set[str] = set()  # PostgreSQL databases made here, dropped at the end
        self.sqlite_template: Path | None = None
        self.postgres_template: str | None = None
        # No pool: a connection kept open to a template would stop it being copied.
        self.admin = sa.create_engine(
            self.server, poolclass=sa.NullPool, isolation_level="AUTOCOMMIT"
        )

    @contextmanager
    def empty_postgres(self) -> Iterator[str]:
        """The URL of a new, empty PostgreSQL database, dropped afterwards."""
        name = self._create(f"t_{uuid.uuid4().hex[:12]}")
        try:
            yield self._url(name)
        finally:
            self._drop(name)

    def migrate(self, url: str) -> None:
        """Bring the empty database at `url` to the migrations' head: a copy of the template
        where `url` is a database this process made and nobody has opened, else `upgrade`."""
        parsed = sa.make_url(url)
        if parsed.get_backend_name() == "sqlite":
            path = Path(parsed.database or "")
            if path.exists():
                upgrade(url)
            else:
                shutil.copyfile(self._sqlite_template(), path)
            return
        name = parsed.database or ""
        if name in self.created:
            template = self._postgres_template()
            with self._admin() as connection:
                opened = connection.scalar(
                    sa.text("SELECT count(*) FROM pg_stat_activity WHERE datname = :name"),
                    {"name": name},
                )
                if not opened:
                    connection.execute(sa.text(f'DROP DATABASE "{name}"'))
                    connection.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
                    return
        upgrade(url)

    def close(self) -> None:
        for name in sorted(self.created):
            self._drop(name)
        self.admin.dispose()
        shutil.rmtree(self.directory, ignore_errors=True)

    def _sqlite_template(self) -> Path:
        if self.sqlite_template is None:
            path = self.directory / f"template-{uuid.uuid4().hex[:8]}.db"
            upgrade(f"sqlite:///{path}")
            self.sqlite_template = path
        return self.sqlite_template

    def _postgres_template(self) -> str:
        if self.postgres_template is None:
            name = self._create(f"template_{uuid.uuid4().hex[:12]}")
            upgrade(self._url(name))
            self.postgres_template = name
        return self.postgres_template

    def _url(self, name: str) -> str:
        return self.server.set(database=name).render_as_string(hide_password=False)

    def _create(self, name: str) -> str:
        with self._admin() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE template0'))
        self.created.add(name)
        return name

    def _drop(self, name: str) -> None:
        with self._admin() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.created.discard(name)

    @contextmanager
    def _admin(self) -> Iterator[sa.Connection]:
        with self.admin.connect() as connection:
            yield connection

"""Alembic builds the whole model from an empty database, on SQLite and PostgreSQL alike."""

import datetime as dt

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text

from atmp_graph.model import Base, search_index
from atmp_graph.model.database import alembic_config, make_engine, upgrade


def test_upgrade_from_empty_creates_every_table_and_matches_the_model(database_url: str) -> None:
    upgrade(database_url)

    engine = make_engine(database_url)
    try:
        # The search index is no ORM table (model/search_index.py), and is checked on its own.
        index = search_index.tables(engine.dialect.name)
        tables = set(inspect(engine).get_table_names())
        assert tables == set(Base.metadata.tables) | {"alembic_version"} | index
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"include_name": lambda name, *_: name not in index}
            )
            differences = compare_metadata(context, Base.metadata)
            assert search_index.missing_triggers(connection) == set()
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


def test_upgrade_clears_feed_states_that_hold_no_cursor_value(database_url: str) -> None:
    """A state such as 'not-a-date' (text an older version kept from a bad record) made every
    later incremental run skip real changes; the migration drops it, so the next run reads the
    stream whole, and keeps every state that is a date, a timestamp or a number."""
    upgrade(database_url, "0006")
    engine = make_engine(database_url)
    states = {
        ("ctgov", "clinical_trial"): "not-a-date",
        ("ctgov", "product"): "2024-05-01",
        ("lumc", "clinical_trial"): "2026-11-01T07:00:00+00:00",
        ("nordvik", "clinical_trial"): "2026-11-01T09:00:00Z",
        ("versioned", "product"): "42",
    }
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO feed_state (feed, stream, cursor, updated_at) "
                    "VALUES (:feed, :stream, :cursor, CURRENT_TIMESTAMP)"
                ),
                [{"feed": f, "stream": s, "cursor": c} for (f, s), c in states.items()],
            )

        upgrade(database_url)

        with engine.connect() as connection:
            kept = connection.execute(text("SELECT feed, stream, cursor FROM feed_state"))
            assert {(feed, stream): cursor for feed, stream, cursor in kept} == {
                key: cursor for key, cursor in states.items() if cursor != "not-a-date"
            }
    finally:
        engine.dispose()


def _insert(connection: Connection, table: str, rows: list[dict[str, object]]) -> None:
    columns = list(rows[0])
    connection.execute(
        text(
            f"INSERT INTO {table} ({', '.join(columns)}) "
            f"VALUES ({', '.join(':' + column for column in columns)})"
        ),
        rows,
    )


def test_upgrade_gives_each_quarantined_record_the_status_its_history_says(
    database_url: str,
) -> None:
    """Before statuses, only each feed's latest run was listed.  Run 2 of lund_skane stored
    LU-P-0003 and quarantined LU-P-0006 again, and did not read LU-P-0007 (still wrong)."""
    upgrade(database_url, "0007")
    engine = make_engine(database_url)
    now = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    try:
        with engine.begin() as connection:
            _insert(connection, "ingest_run", [
                {"id": run, "feed": "lund_skane", "started_at": now, "finished_at": now,
                 "status": "SUCCEEDED", "read": 0, "created": 0, "updated": 0, "unchanged": 0,
                 "quarantined": 0}
                for run in (1, 2)
            ])  # fmt: skip
            _insert(connection, "quarantined_record", [
                {"id": n, "run_id": run, "feed": "lund_skane", "entity_type": "project",
                 "source_id": source_id, "reason": "wrong"}
                for n, run, source_id in [
                    (1, 1, "LU-P-0003"), (2, 1, "LU-P-0006"), (3, 1, "LU-P-0007"),
                    (4, 2, "LU-P-0006"),
                ]
            ])  # fmt: skip
            _insert(connection, "source_record", [
                {"id": 1, "feed": "lund_skane", "entity_type": "project",
                 "source_id": "LU-P-0003", "fetched_at": now, "content_hash": "x", "run_id": 2}
            ])  # fmt: skip

        upgrade(database_url)

        with engine.connect() as connection:
            statuses = connection.execute(
                text("SELECT id, status, resolved_by_run_id FROM quarantined_record ORDER BY id")
            ).all()
        assert [tuple(row) for row in statuses] == [
            (1, "RESOLVED", 2),
            (2, "SUPERSEDED", None),
            (3, "OPEN", None),
            (4, "OPEN", None),
        ]
    finally:
        engine.dispose()


def test_upgrade_marks_records_of_nodes_several_feeds_built_for_rewriting(
    database_url: str,
) -> None:
    """Their link claims cannot be told apart; the next read of each writes it again."""
    upgrade(database_url, "0008")
    engine = make_engine(database_url)
    now = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    try:
        with engine.begin() as connection:
            _insert(connection, "source_record", [
                {"id": n, "feed": feed, "entity_type": "clinical_trial", "source_id": source_id,
                 "fetched_at": now, "content_hash": "hash"}
                for n, feed, source_id in [
                    (1, "lund_skane", "CCTU0263"), (2, "ctgov", "NCT05635409"),
                    (3, "lumc", "P10.102"),
                ]
            ])  # fmt: skip
            _insert(connection, "entity_source", [
                {"source_record_id": n, "entity_type": "clinical_trial", "entity_id": trial}
                for n, trial in [(1, 1), (2, 1), (3, 2)]
            ])  # fmt: skip

        upgrade(database_url)

        with engine.connect() as connection:
            hashes = connection.execute(
                text("SELECT id, content_hash FROM source_record ORDER BY id")
            ).all()
        assert [tuple(row) for row in hashes] == [(1, ""), (2, ""), (3, "hash")]
    finally:
        engine.dispose()

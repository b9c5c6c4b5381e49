"""The outbox is written in the transaction of the change it describes: what rolls back leaves
no event, a savepoint that rolls back takes its own along, and each node has one event per
transaction however often it changed."""

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from atmp_graph.enums import ChangeKind, InstitutionKind
from atmp_graph.model import ChangeEvent, Institution
from atmp_graph.model.change_events import add_commit_listener, remove_commit_listener
from atmp_graph.model.outbox import prune


def events(engine: Engine) -> list[tuple[int, ChangeKind, str | None, Any]]:
    with Session(engine) as session:
        rows = session.execute(
            sa.select(ChangeEvent.sequence, ChangeEvent.kind, ChangeEvent.entity_type,
                      ChangeEvent.payload).order_by(ChangeEvent.sequence)
        )  # fmt: skip
        return [tuple(row) for row in rows]  # type: ignore[misc]


def institution(name: str) -> Institution:
    return Institution(name=name, kind=InstitutionKind.UNIVERSITY, city="Lund")


def test_a_transaction_that_rolls_back_leaves_no_event(engine: Engine) -> None:
    with Session(engine) as session:
        session.add(institution("Lund University"))
        session.flush()
        session.rollback()
    assert events(engine) == []
    with Session(engine) as session, session.begin():
        session.add(institution("Lund University"))
    assert [kind for _, kind, _, _ in events(engine)] == [ChangeKind.CREATED]


def test_a_batch_that_fails_part_way_leaves_no_event_and_no_gap(engine: Engine) -> None:
    def batch() -> None:
        with Session(engine) as session, session.begin():
            session.add(institution("Lund University"))
            session.flush()
            session.add(Institution(name=None, kind=InstitutionKind.UNIVERSITY))

    with pytest.raises(sa.exc.IntegrityError):
        batch()
    assert events(engine) == []
    for name in ("Lund University", "LUMC"):
        with Session(engine) as session, session.begin():
            session.add(institution(name))
    assert [sequence for sequence, *_ in events(engine)] == [1, 2]


def test_a_savepoint_that_rolls_back_takes_its_changes_along(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        kept = institution("Lund University")
        session.add(kept)

        def fails_half_way() -> None:
            with session.begin_nested():
                session.add(institution("Quarantined in a savepoint"))
                session.flush()
                raise RuntimeError("the record fails half-way")

        with pytest.raises(RuntimeError):
            fails_half_way()
        with session.begin_nested():
            kept.city = "Malmö"
    assert [(kind, entity_type) for _, kind, entity_type, _ in events(engine)] == [
        (ChangeKind.CREATED, "institution")
    ]


def test_a_node_changed_twice_in_one_transaction_is_one_update_from_first_to_last(
    engine: Engine,
) -> None:
    with Session(engine) as session, session.begin():
        session.add(institution("Lund University"))
    with Session(engine) as session, session.begin():
        found = session.scalars(sa.select(Institution)).one()
        found.city = "Malmö"
        session.flush()
        found.city = "Helsingborg"
        found.short_name = "LU"
    (_, kind, _, payload) = events(engine)[-1]
    assert kind is ChangeKind.UPDATED
    assert payload == {
        "changes": [
            {"field": "short_name", "old": None, "new": "LU"},
            {"field": "city", "old": "Lund", "new": "Helsingborg"},
        ]
    }


def test_listeners_hear_the_highest_sequence_once_it_is_committed(engine: Engine) -> None:
    heard: list[int] = []
    add_commit_listener(heard.append)
    try:
        with Session(engine) as session, session.begin():
            session.add_all([institution("Lund University"), institution("LUMC")])
        with Session(engine) as session, session.begin():
            session.scalar(sa.select(Institution.id).limit(1))  # reads: no events, no word
    finally:
        remove_commit_listener(heard.append)
    assert heard == [2]


def test_pruning_keeps_the_window_and_the_newest_event(engine: Engine) -> None:
    for name in ("Lund University", "LUMC", "Skåne University Hospital"):
        with Session(engine) as session, session.begin():
            session.add(institution(name))
    with Session(engine) as session, session.begin():
        assert prune(session, older_than=dt.datetime.now(dt.UTC) - dt.timedelta(days=7)) == 0
        # Everything is older than a moment from now: all but the newest go, so the numbers
        # go on from where they were.
        assert prune(session, older_than=dt.datetime.now(dt.UTC) + dt.timedelta(days=1)) == 2
    assert [sequence for sequence, *_ in events(engine)] == [3]

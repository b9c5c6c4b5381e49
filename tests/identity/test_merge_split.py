"""A merge an admin regrets is undone exactly: after merge and split the graph is as before."""

from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

import atmp_graph.model as m
from atmp_graph.identity.merging import MergeError, merge, split
from atmp_graph.identity.precedence import load_precedence

# What a merge and its split leave behind on purpose: the record of them, the redirect (gone
# again), the decision on the pair, and ids of rows resolution rebuilds.
BOOKKEEPING = {
    "entity_merge", "entity_redirect", "match_suggestion", "alembic_version", "change_event"
}  # fmt: skip
REBUILT_IDS = {"trial_site"}


def graph_rows(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but the bookkeeping, sorted."""
    rows = {}
    with engine.connect() as connection:
        for table in m.Base.metadata.sorted_tables:
            if table.name in BOOKKEEPING:
                continue
            columns = [
                c for c in table.columns if not (table.name in REBUILT_IDS and c.key == "id")
            ]
            found = connection.execute(select(*columns)).all()
            rows[table.name] = sorted((tuple(row) for row in found), key=repr)
    return rows


def node_id(session: Session, model: type[m.Base], **where: Any) -> int:
    return int(session.scalars(select(model.id).filter_by(**where)).one())  # type: ignore[attr-defined]


# name -> (kind, the column that finds each, survivor's value, merged node's value)
PAIRS: dict[str, tuple[type[m.Base], str, str, str]] = {
    # A company only partnerships name, into the university the reference data describes.
    "company-into-university": (m.Institution, "name", "Nordic Cell Process AB", "Lund University"),
    # The hospital is part of the region: merging the region makes a self-reference.
    "region-into-hospital": (m.Institution, "name", "Skåne University Hospital", "Region Skåne"),
    "product-from-the-registry": (m.Product, "code", "LU-ATMP-01", "NCT05635409/STEM-PD"),
    "two-trials": (m.ClinicalTrial, "nct_id", "NCT05635409", "NCT01144962"),
    "condition-in-two-languages": (m.Condition, "name", "Parkinson Disease", "Parkinsons sjukdom"),
}  # fmt: skip


def pair_ids(session: Session, pair: str) -> tuple[int, int]:
    model, column, survivor, merged = PAIRS[pair]
    found = [node_id(session, model, **{column: value}) for value in (survivor, merged)]
    return found[0], found[1]


@pytest.mark.parametrize("pair", PAIRS)
def test_merge_then_split_gives_the_graph_back(demo_engine: Engine, pair: str) -> None:
    model = PAIRS[pair][0]
    before = graph_rows(demo_engine)
    precedence = load_precedence()

    with Session(demo_engine, autoflush=False) as session, session.begin():
        survivor, merged = pair_ids(session, pair)
        record = merge(session, model, survivor, merged, reason=pair, precedence=precedence)
        merge_id = record.id
    assert graph_rows(demo_engine) != before
    with Session(demo_engine, autoflush=False) as session, session.begin():
        split(session, merge_id, precedence=precedence)

    after = graph_rows(demo_engine)
    assert {t: r for t, r in after.items() if r != before[t]} == {}


def test_a_merged_away_id_is_never_handed_out_again(demo_engine: Engine) -> None:
    with Session(demo_engine, autoflush=False) as session, session.begin():
        newest = session.scalar(select(m.Condition.id).order_by(m.Condition.id.desc()).limit(1))
        oldest = session.scalar(select(m.Condition.id).order_by(m.Condition.id).limit(1))
        assert newest is not None
        assert oldest is not None
        merge(session, m.Condition, oldest, newest, reason="test", precedence=load_precedence())
        condition = m.Condition(name="Something new", normalized="something new")
        session.add(condition)
        session.flush()
        assert condition.id > newest


def test_a_merge_merged_again_is_split_last_first(demo_engine: Engine) -> None:
    precedence = load_precedence()
    with Session(demo_engine, autoflush=False) as session, session.begin():
        a, b = pair_ids(session, "product-from-the-registry")
        c = node_id(session, m.Product, code="LUMC-GT-RAG1")
        first = merge(session, m.Product, a, b, reason="first", precedence=precedence)
        second = merge(session, m.Product, c, a, reason="second", precedence=precedence)

        with pytest.raises(MergeError) as refused:
            split(session, first.id, precedence=precedence)
        assert str(refused.value) == (
            f"product {a} was merged away since (merge {second.id}): split merge {second.id} first"
        )
        split(session, second.id, precedence=precedence)
        split(session, first.id, precedence=precedence)
        codes = session.scalars(select(m.Product.code).where(m.Product.id.in_([a, b, c])))
        assert sorted(codes) == ["LU-ATMP-01", "LUMC-GT-RAG1", "NCT05635409/STEM-PD"]


@pytest.mark.parametrize("kind", [m.Project, m.Partnership, m.Signatory])
def test_only_kinds_with_an_identity_merge(demo_engine: Engine, kind: type[m.Base]) -> None:
    with Session(demo_engine) as session:
        first, second = session.scalars(select(kind.id).limit(2)).all()  # type: ignore[attr-defined]
        with pytest.raises(MergeError, match="nodes cannot be merged"):
            merge(session, kind, first, second, reason="test", precedence=load_precedence())


def test_sqlite_node_tables_never_reuse_ids(demo_engine: Engine) -> None:
    if demo_engine.dialect.name != "sqlite":
        # PostgreSQL sequences never hand an id out twice; there is nothing to check.
        assert demo_engine.dialect.name == "postgresql"
        return
    with demo_engine.connect() as connection:
        tables = set(connection.scalars(text("SELECT name FROM sqlite_sequence")))
    assert tables >= {"institution", "facility", "person", "condition", "product", "clinical_trial"}

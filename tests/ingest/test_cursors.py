"""A feed's cursor is a typed value: a record whose cursor is not of its stream's type is
quarantined, a quarantined record never moves the feed's state, and states compare as dates,
timestamps or numbers, so an incremental run never skips a real change."""

import json
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

import atmp_graph.model as m
from atmp_graph import NoConfig, SourceRow, Stream
from atmp_graph.enums import TrialStatus
from atmp_graph.ingest import ingest
from atmp_graph.plugins.builtin.ctgov import CtGovFeed
from atmp_graph.plugins.builtin.lumc import LumcFeed
from atmp_graph.plugins.builtin.samples import sample_path
from atmp_graph.plugins.cursors import CursorType

CTGOV_CURSOR = "protocolSection.statusModule.lastUpdatePostDateStruct.date"


def _state(engine: Engine, feed: str) -> dict[str, str]:
    with Session(engine) as session:
        rows = session.execute(
            select(m.FeedState.stream, m.FeedState.cursor).where(m.FeedState.feed == feed)
        )
        return {row.stream: row.cursor for row in rows}


def _trial_status(engine: Engine, **where: str) -> TrialStatus | None:
    with Session(engine) as session:
        trial = session.scalars(select(m.ClinicalTrial).filter_by(**where)).one()
        return trial.status


def _edit_json(path: Path, edit: Any) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    edit(document)
    path.write_text(json.dumps(document), encoding="utf-8")


def test_a_quarantined_study_never_moves_the_cursor_past_real_changes(
    reference_engine: Engine, tmp_path: Path
) -> None:
    """LUMC's sample has P24.311 (lastModified 1 November) quarantined for its phase, while
    the newest study stored is P19.045 (2 October).  A study LUMC changes on 20 October must
    be read by the next incremental run."""
    export = tmp_path / "export.json"
    shutil.copy(LumcFeed().sample(), export)
    ingest(reference_engine, LumcFeed(), export)

    def change(document: dict[str, Any]) -> None:
        study = next(s for s in document["studies"] if s["studyId"] == "P10.102")
        study.update(state="terminated", lastModified="2026-10-20T10:00:00+02:00")

    _edit_json(export, change)
    again = ingest(reference_engine, LumcFeed(), export)

    assert _trial_status(reference_engine, local_id="P10.102") is TrialStatus.TERMINATED
    assert again.updated == 1
    assert _state(reference_engine, "lumc") == {"clinical_trial": "2026-10-20T08:00:00+00:00"}


def _ctgov_export(tmp_path: Path, dates: Mapping[str, str], status: str | None = None) -> Path:
    """The two sample studies, with these lastUpdatePostDates (and RAG1-SCID's status)."""
    export = tmp_path / "ctgov"
    export.mkdir(exist_ok=True)
    for nct_id, date in dates.items():
        path = export / f"{nct_id}.json"
        shutil.copy(sample_path("ctgov") / path.name, path)

        def dated(document: dict[str, Any], date: str = date, nct_id: str = nct_id) -> None:
            module = document["protocolSection"]["statusModule"]
            module["lastUpdatePostDateStruct"] = {"date": date}
            if status and nct_id == "NCT04797260":
                module["overallStatus"] = status

        _edit_json(path, dated)
    return export


def test_a_cursor_that_is_no_date_is_quarantined_and_never_becomes_the_state(
    reference_engine: Engine, tmp_path: Path
) -> None:
    """ClinicalTrials.gov's cursor is a date; a study whose date is 'not-a-date' used to be
    stored and its text became the state, which every real date sorts before."""
    export = _ctgov_export(tmp_path, {"NCT05635409": "not-a-date", "NCT04797260": "2024-05-01"})

    first = ingest(reference_engine, CtGovFeed(), export)

    assert [entry.message() for entry in first.quarantine] == [
        f"ctgov: NCT05635409.json (NCT05635409/STEM-PD): {CTGOV_CURSOR} 'not-a-date' is not a "
        "date (YYYY-MM-DD)",
        f"ctgov: NCT05635409.json (NCT05635409): {CTGOV_CURSOR} 'not-a-date' is not a date "
        "(YYYY-MM-DD)",
    ]
    assert _state(reference_engine, "ctgov") == {
        "product": "2024-05-01",
        "clinical_trial": "2024-05-01",
    }

    later = _ctgov_export(
        tmp_path, {"NCT05635409": "not-a-date", "NCT04797260": "2025-01-15"}, status="COMPLETED"
    )
    ingest(reference_engine, CtGovFeed(), later)

    assert _trial_status(reference_engine, nct_id="NCT04797260") is TrialStatus.COMPLETED
    assert _state(reference_engine, "ctgov")["clinical_trial"] == "2025-01-15"


class VersionedProducts:
    """A feed at the edge of this test: products in a JSON list, each with a version number
    as its cursor.  It reads everything and leaves skipping to nobody, so the state the host
    keeps is all there is to see."""

    name = "versioned"
    title = "Versioned products"
    version = "1.0"
    institution_ror: str | None = None
    config_model: type[BaseModel] = NoConfig

    def __init__(self, streams: tuple[Stream, ...]) -> None:
        self.streams = streams

    def sample(self) -> str | None:
        return None

    def read(
        self, source: str, *, state: Mapping[str, str], config: BaseModel
    ) -> Iterator[SourceRow]:
        for position, item in enumerate(json.loads(Path(source).read_text()), start=1):
            yield SourceRow(
                entity="product",
                source_id=item["code"],
                data={"name": item["name"]},
                raw=item,
                cursor=item["version"],
                file=Path(source).name,
                row=position,
            )


@pytest.mark.parametrize(
    "case",
    [
        # cursor type, first cursor, later cursor, the state after both: as text, "9" sorts
        # after "10", and 10:00 at +01:00 after 09:30 UTC.
        ("number", "9", "10", "10"),
        ("datetime", "2026-11-01T10:00:00+01:00", "2026-11-01T09:30:00Z",
         "2026-11-01T09:30:00+00:00"),
    ],
    ids=["number", "datetime"],
)  # fmt: skip
def test_cursors_compare_as_values_of_their_type(
    engine: Engine, tmp_path: Path, case: tuple[CursorType, str, str, str]
) -> None:
    cursor_type, first, later, state = case
    stream = Stream("product", primary_key="code", cursor_field="version", cursor_type=cursor_type)
    feed = VersionedProducts((stream,))
    export = tmp_path / "products.json"
    export.write_text(json.dumps([{"code": "P-1", "name": "One", "version": first}]))
    ingest(engine, feed, export)

    export.write_text(json.dumps([{"code": "P-1", "name": "One, again", "version": later}]))
    ingest(engine, feed, export)

    assert _state(engine, "versioned") == {"product": state}

"""ClinicalTrials.gov studies the samples do not show: a broken trial part, no title at all,
interventions that are no medicinal product.  Each goes in as a file, the graph answers."""

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

import atmp_graph.model as m
from atmp_graph.api.app import create_app
from atmp_graph.api.settings import Settings
from atmp_graph.ingest import ingest
from atmp_graph.model.database import make_engine
from atmp_graph.plugins.builtin.ctgov import CtGovFeed
from atmp_graph.plugins.builtin.lumc import LumcFeed
from atmp_graph.plugins.builtin.samples import sample_path
from atmp_graph.plugins.report import IngestReport
from tests.conftest import GraphQLClient, admin_headers
from tests.databases import migrate

RAG1_SCID = sample_path("ctgov") / "NCT04797260.json"


@pytest.fixture
def graph(reference_engine: Engine, settings: Settings) -> Iterator[GraphQLClient]:
    """GraphQL over the database the test ingests into."""
    with TestClient(create_app(settings), headers=admin_headers(settings.database_url)) as http:
        yield GraphQLClient(http)


def _study(nct_id: str, **modules: Any) -> dict[str, Any]:
    identification = {"nctId": nct_id, "briefTitle": f"Study {nct_id}"}
    return {
        "protocolSection": {
            "identificationModule": identification | modules.pop("identification", {}),
            **modules,
        }
    }


def _write(path: Path, study: Any) -> Path:
    path.write_text(json.dumps(study, ensure_ascii=False), encoding="utf-8")
    return path


def _numbers(report: IngestReport) -> tuple[int, int, int, int, int]:
    return report.read, report.created, report.updated, report.unchanged, report.quarantined


def _products(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return list(session.scalars(select(m.Product.name).order_by(m.Product.id)))


GENE_THERAPY = {"type": "GENETIC", "name": "LV-X cells", "description": "Transduced cells"}


@pytest.mark.parametrize(
    ("broken", "problem"),
    [
        (
            {"statusModule": {"startDateStruct": {"date": "2022-13"}}},
            "protocolSection.statusModule.startDateStruct.date '2022-13-01' is not a date "
            "(YYYY-MM-DD)",
        ),
        (
            {
                "identification": {
                    "secondaryIdInfos": [{"id": "2019-0023", "type": "EUDRACT_NUMBER"}]
                }
            },
            "protocolSection.identificationModule.secondaryIdInfos[0].id '2019-0023' is not a "
            "EudraCT number (YYYY-NNNNNN-CC)",
        ),
    ],
)
def test_a_quarantined_trial_takes_its_interventions_with_it(
    reference_engine: Engine, tmp_path: Path, broken: dict[str, Any], problem: str
) -> None:
    arms = {"armsInterventionsModule": {"interventions": [GENE_THERAPY]}}
    study = _study("NCT00000003", **arms, **copy.deepcopy(broken))

    report = ingest(reference_engine, CtGovFeed(), _write(tmp_path / "NCT00000003.json", study))

    # read = stored + quarantined: the product is read, and held back with its trial.
    assert _numbers(report) == (2, 0, 0, 0, 2)
    assert [entry.message() for entry in report.quarantine] == [
        f"ctgov: NCT00000003.json (NCT00000003): {problem}",
        "ctgov: NCT00000003.json (NCT00000003/LV-X cells): held back with its clinical trial "
        "NCT00000003, which is quarantined",
    ]
    assert _products(reference_engine) == []

    fixed = _study("NCT00000003", **arms)
    again = ingest(reference_engine, CtGovFeed(), _write(tmp_path / "NCT00000003.json", fixed))

    assert _numbers(again) == (2, 2, 0, 0, 0)
    with Session(reference_engine) as session:
        trial = session.scalars(select(m.ClinicalTrial)).one()
        linked = session.scalars(
            select(m.Product.name).join(m.Product.trials).where(m.ClinicalTrial.id == trial.id)
        ).all()
    assert linked == ["LV-X cells"]


def test_a_trial_the_database_refuses_takes_its_interventions_with_it(
    postgres_database_url: str, tmp_path: Path
) -> None:
    """A title within the read limits but longer than PostgreSQL keeps passes validation and
    fails only at the write, after its product went into the batch: the product goes too."""
    migrate(postgres_database_url)
    engine = make_engine(postgres_database_url)
    arms = {"armsInterventionsModule": {"interventions": [GENE_THERAPY]}}
    studies = [_study(f"NCT0000000{n}", **copy.deepcopy(arms)) for n in (1, 2, 3)]
    studies[1]["protocolSection"]["identificationModule"]["briefTitle"] = "T" * 2_500

    report = ingest(engine, CtGovFeed(), _write(tmp_path / "page.json", {"studies": studies}))

    assert _numbers(report) == (6, 4, 0, 0, 2)
    trial, product = report.quarantine
    assert (trial.source_id, trial.problems[0].reason.split(":")[0]) == (
        "NCT00000002",
        "could not be stored",
    )
    assert product.message() == (
        "ctgov: page.json (NCT00000002/LV-X cells): held back with its clinical trial "
        "NCT00000002, which is quarantined"
    )
    with Session(engine) as session:
        codes = session.scalars(select(m.Product.code).order_by(m.Product.code)).all()
        sources = session.scalars(
            select(m.SourceRecord.source_id).order_by(m.SourceRecord.source_id)
        ).all()
    assert codes == ["NCT00000001/LV-X cells", "NCT00000003/LV-X cells"]
    assert sources == [
        "NCT00000001",
        "NCT00000001/LV-X cells",
        "NCT00000003",
        "NCT00000003/LV-X cells",
    ]
    engine.dispose()


TITLE = """query($id: String!) {
  trial(registryId: $id) {
    title acronym
    provenance(fields: ["title"]) { value note claims { feed sourceId value } }
  }
}"""


def test_a_study_without_a_title_is_named_by_its_acronym_or_nct_id(
    reference_engine: Engine, graph: GraphQLClient, tmp_path: Path
) -> None:
    untitled = {"briefTitle": None}
    export = tmp_path / "export"
    export.mkdir()
    _write(
        export / "NCT00000004.json",
        _study("NCT00000004", identification={**untitled, "acronym": "NO-TITLE"}),
    )
    _write(export / "NCT00000005.json", _study("NCT00000005", identification=untitled))

    report = ingest(reference_engine, CtGovFeed(), export)

    assert _numbers(report) == (2, 2, 0, 0, 0)
    named = graph.execute(TITLE, {"id": "NCT00000004"})["trial"]
    assert named == {
        "title": "NO-TITLE",
        "acronym": "NO-TITLE",
        "provenance": [
            {
                "value": "NO-TITLE",
                "note": "no source gives a title: the trial is named by its acronym",
                "claims": [{"feed": "ctgov", "sourceId": "NCT00000004", "value": None}],
            }
        ],
    }
    numbered = graph.execute(TITLE, {"id": "NCT00000005"})["trial"]
    assert (numbered["title"], numbered["provenance"][0]["note"]) == (
        "NCT00000005",
        "no source gives a title: the trial is named by its NCT id",
    )


INTERVENTIONS = """{
  trial(registryId: "NCT04797260") {
    products { name interventionType }
    interventions { name type description }
    provenance(fields: ["interventions"]) { claims { feed value } }
  }
  matchSuggestions(filter: {entityType: {eq: "product"}}) {
    nodes { node { ... on Product { name } } other { ... on Product { name } } }
  }
}"""


def test_interventions_that_are_no_medicinal_product_stay_interventions(
    reference_engine: Engine, graph: GraphQLClient, tmp_path: Path
) -> None:
    study = json.loads(RAG1_SCID.read_text(encoding="utf-8"))
    arms = study["protocolSection"]["armsInterventionsModule"]
    gene_therapy = arms["interventions"][0]
    leukapheresis = {
        "type": "PROCEDURE",
        "name": "Leukapheresis",
        "description": "Collection of the patient's CD34+ cells",
    }
    arms["interventions"].append(leukapheresis)
    arms["armGroups"] = [
        {"label": "Gene therapy", "type": "EXPERIMENTAL",
         "interventionNames": ["Genetic: Gene therapy", "Procedure: Leukapheresis"]},
        {"label": "Untreated controls", "type": "NO_INTERVENTION"},
    ]  # fmt: skip
    lumc = LumcFeed()
    ingest(reference_engine, lumc, lumc.sample())

    report = ingest(reference_engine, CtGovFeed(), _write(tmp_path / "NCT04797260.json", study))

    # One product (the gene therapy), then the trial; the procedure is no product.
    assert _numbers(report) == (2, 2, 0, 0, 0)
    data = graph.execute(INTERVENTIONS)
    interventions = [gene_therapy, leukapheresis]
    assert data["trial"] == {
        "products": [
            {"name": "RAG1 LV CD34+ cells", "interventionType": None},
            {"name": "Gene therapy", "interventionType": "GENETIC"},
        ],
        "interventions": interventions,
        "provenance": [{"claims": [{"feed": "ctgov", "value": interventions}]}],
    }
    assert data["matchSuggestions"]["nodes"] == [
        {"node": {"name": "RAG1 LV CD34+ cells"}, "other": {"name": "Gene therapy"}}
    ]
    assert "Leukapheresis" not in _products(reference_engine)


DROPPED = """{
  trial(registryId: "NCT04797260") {
    retiredAt interventions { name } collaborators { name }
  }
  institutions(filter: {search: "ZonMw"}) { nodes { name } }
}"""
ZONMW = "ZonMw: The Netherlands Organisation for Health Research and Development"


def test_a_study_the_registry_drops_takes_what_only_it_named_and_brings_it_back(
    reference_engine: Engine, graph: GraphQLClient, tmp_path: Path
) -> None:
    lumc = LumcFeed()
    ingest(reference_engine, lumc, lumc.sample())
    ingest(reference_engine, CtGovFeed(), sample_path("ctgov"))
    only_stem_pd = tmp_path / "ctgov"
    only_stem_pd.mkdir()
    (only_stem_pd / "NCT05635409.json").write_bytes(
        (sample_path("ctgov") / "NCT05635409.json").read_bytes()
    )

    ingest(reference_engine, CtGovFeed(), only_stem_pd, max_retired_share=1.0)

    # LUMC still sends RAG1-SCID; the registry's interventions and collaborators went with
    # its record, and ZonMw, which only that record named, is retired.
    assert graph.execute(DROPPED) == {
        "trial": {"retiredAt": None, "interventions": [], "collaborators": []},
        "institutions": {"nodes": []},
    }

    ingest(reference_engine, CtGovFeed(), sample_path("ctgov"))

    assert graph.execute(DROPPED) == {
        "trial": {
            "retiredAt": None,
            "interventions": [{"name": "Gene therapy"}],
            "collaborators": [{"name": ZONMW}, {"name": "Horizon 2020 - European Commission"}],
        },
        "institutions": {"nodes": [{"name": ZONMW}]},
    }

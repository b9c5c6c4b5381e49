"""Registry pages go in the way CSV exports do: a batch of studies, their products and their
trials, a handful of statements at a time, with the one-by-one way where a batch fails."""

import json
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, selectinload

import atmp_graph.model as m
from atmp_graph.ingest import ingest
from atmp_graph.plugins.builtin.ctgov import CtGovFeed


def _page(path: Path, studies: list[Any]) -> Path:
    path.write_text(json.dumps({"studies": studies}), encoding="utf-8")
    return path


def _study(nct_id: str, *, sponsor: dict[str, str], collaborators: list[dict[str, str]]) -> Any:
    return {
        "protocolSection": {
            "identificationModule": {"nctId": nct_id, "briefTitle": f"Study {nct_id}"},
            "sponsorCollaboratorsModule": {
                "leadSponsor": sponsor,
                "collaborators": collaborators,
            },
            "armsInterventionsModule": {"interventions": [{"type": "GENETIC", "name": "LV-1"}]},
        }
    }


def test_a_company_sponsor_and_collaborator_are_stored_as_companies(
    engine: Engine, tmp_path: Path
) -> None:
    """The registry's class INDUSTRY names a company: the institution made for it is one."""
    study = _study(
        "NCT00000011",
        sponsor={"name": "Acme Gene Therapies", "class": "INDUSTRY"},
        collaborators=[{"name": "Vector Works", "class": "INDUSTRY"}],
    )

    report = ingest(engine, CtGovFeed(), _page(tmp_path / "page.json", [study]))

    assert (report.read, report.created, report.quarantined) == (2, 2, 0)
    with Session(engine) as session:
        trial = session.scalars(
            select(m.ClinicalTrial).options(
                selectinload(m.ClinicalTrial.sponsor), selectinload(m.ClinicalTrial.collaborators)
            )
        ).one()
        assert trial.sponsor is not None
        assert (trial.sponsor.name, trial.sponsor.kind.value) == ("Acme Gene Therapies", "COMPANY")
        assert [(c.name, c.kind.value) for c in trial.collaborators] == [
            ("Vector Works", "COMPANY")
        ]

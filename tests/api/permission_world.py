"""The world the permission matrix asks about: a Lund/Skåne partnerships export holding
canaries, read twice, a trial two feeds disagree on, and a key for each of six viewers.

Each canary is a value that appears nowhere else, in one protected place:

- a confidential amount (LU-A-901: its parties and admins), an open amount (LU-A-902: partners
  and up), a confidential amount in a row that fails validation (LU-A-903, in the quarantine:
  admins), and the export's path (where a record was read: curators and admins);
- a confidential amount in LU-A-904, a partnership the second read no longer has: retired,
  it stays visible to its parties only, and the run that retired it (`retiredBy`) names the
  second read's path, another canary (curators and admins);
- Open Vector Zephyrine AB, LU-A-905's company, named like LU-A-902's Open Vector AB and
  without an identifier: a pending match suggestion pairs the two (curators and admins);
- a trial title that lost to the registry's (curators), and the reason a curator gave for
  asking for the quarantined row again (in the audit log: admins).
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.testclient import TestClient
from strawberry import relay

import atmp_graph.model as m
from atmp_graph.access.keys import create_key, keyed_hash, server_secret
from atmp_graph.api.app import create_app
from atmp_graph.api.settings import Settings
from atmp_graph.enums import Role
from atmp_graph.ingest import ingest
from atmp_graph.plugins.builtin.ctgov import CtGovFeed
from atmp_graph.plugins.builtin.lund_skane import LundSkaneFeed
from benchmarks.exports import TRIALS_HEADER

HEADER = (
    "Avtals-ID;Företag;Organisationsnummer;Avtalstyp;Start;Slut;Status;Projekt-ID;"
    "Avtalsvärde (SEK);Konfidentiellt"
)
SECRET_AMOUNT, OPEN_AMOUNT, QUARANTINED_AMOUNT = "7314159", "2718281", "9999331"
RETIRED_AMOUNT = "4669201"  # LU-A-904's, confidential: the second read no longer has it
EXPORT = "canary-export-5f3a"  # in every source path
RERUN = "canary-rerun-91d4"  # in the path of the second read, the run that retired LU-A-904
SUGGESTED = "Zephyrine"  # in the name of the node a pending match suggestion pairs
REASON = "canary-reason-8c1e"  # why a curator asked for the row again: in the audit log
# A Lund/Skåne trial the registry also lists under another title: the registry's title wins,
# so the Lund/Skåne title is a value that lost, seen only in the claims and the conflicts.
LOSING_TITLE = "canary-title-3b7d"
TRIAL = f"LU-T-901;NCT09990001;;{LOSING_TITLE};I;Rekryterar;Region Skåne;10;;;;2024-01-01"
STUDY = {
    "protocolSection": {
        "identificationModule": {"nctId": "NCT09990001", "briefTitle": "The registry's title"},
        "statusModule": {"overallStatus": "RECRUITING"},
    }
}
ROWS = [
    f"LU-A-901;Canary Cell AB;556900-0001;Licensavtal;2024-01-01;;Aktivt;;{SECRET_AMOUNT};Ja",
    f"LU-A-902;Open Vector AB;556900-0002;Licensavtal;2024-01-01;;Aktivt;;{OPEN_AMOUNT};Nej",
    f"LU-A-903;Broken Terms AB;556900-0003;Licensavtal;2024-13-01;;Aktivt;;{QUARANTINED_AMOUNT};Ja",
    f"LU-A-904;Open Vector AB;556900-0002;Licensavtal;2023-01-01;;Aktivt;;{RETIRED_AMOUNT};Ja",
    f"LU-A-905;Open Vector {SUGGESTED} AB;;Licensavtal;2024-01-01;;Aktivt;;;Nej",
]
RETIRED = "LU-A-904"

VIEWERS = ["anonymous", "partner A", "partner B", "industry partner", "curator", "admin"]
# (institution name, role) of each viewer's key: Lund University is a party to every
# Lund/Skåne partnership; LUMC to none of them; Canary Cell AB is LU-A-901's company.
KEYS = {
    "partner A": ("Lund University", Role.PARTNER),
    "partner B": ("Leiden University Medical Center", Role.PARTNER),
    "industry partner": ("Canary Cell AB", Role.PARTNER),
    "curator": ("Leiden University Medical Center", Role.CURATOR),
    "admin": ("Leiden University Medical Center", Role.ADMIN),
}


@dataclass
class World:
    engine: Engine
    clients: dict[str, TestClient]
    key_ids: dict[str, int]  # each viewer's key (anonymous has none)
    ids: dict[str, str]  # global ids, by what they name: a partnership's code, "the rerun", ...
    content_hash: str  # LU-A-902's, as curators are shown it
    quarantined: int  # the open quarantined record's number (LU-A-903)
    suggestion: int  # the pending suggestion's number (Open Vector AB and its namesake)


def _write_export(directory: Path, rows: list[str]) -> Path:
    directory.mkdir(parents=True)
    (directory / "partnerships.csv").write_text("\n".join([HEADER, *rows]) + "\n", "utf-8-sig")
    return directory


def _read_feeds(engine: Engine, tmp_path: Path) -> int:
    """The export, the export again a month later without LU-A-904, the trial from both
    feeds; returns the number of the run that retired LU-A-904."""
    report = ingest(engine, LundSkaneFeed(), _write_export(tmp_path / EXPORT, ROWS))
    assert (report.created, report.quarantined) == (4, 1), report.summary()
    kept = [row for row in ROWS if not row.startswith(RETIRED)]
    # One record of four retired is more than a run may retire unasked (20 %).
    again = _write_export(tmp_path / RERUN / EXPORT, kept)
    rerun = ingest(engine, LundSkaneFeed(), again, max_retired_share=0.5)
    assert (rerun.retired, rerun.quarantined) == (1, 1), rerun.summary()
    trials = tmp_path / "trials"
    trials.mkdir()
    (trials / "trials.csv").write_text("\n".join([TRIALS_HEADER, TRIAL]) + "\n", "utf-8-sig")
    assert ingest(engine, LundSkaneFeed(), str(trials)).created == 1
    (tmp_path / "NCT09990001.json").write_text(json.dumps(STUDY), "utf-8")
    assert ingest(engine, CtGovFeed(), str(tmp_path / "NCT09990001.json")).created == 1
    assert rerun.run_id is not None
    return rerun.run_id


def _partnership_ids(session: Session) -> dict[str, str]:
    rows = session.execute(sa.select(m.Partnership.code, m.Partnership.id))
    return {str(code): str(relay.GlobalID("Partnership", str(number))) for code, number in rows}


def _pending_suggestion(session: Session) -> int:
    """The suggestion that pairs Open Vector AB with Open Vector Zephyrine AB."""
    named = sa.select(m.Institution.id).where(m.Institution.name.like("Open Vector%"))
    return session.scalars(
        sa.select(m.MatchSuggestion.id).where(
            m.MatchSuggestion.entity_type == "institution",
            m.MatchSuggestion.entity_id.in_(named),
            m.MatchSuggestion.other_id.in_(named),
        )
    ).one()


@contextmanager
def build_world(reference_engine: Engine, database_url: str, tmp_path: Path) -> Iterator[World]:
    """The feeds read, a key per viewer, and a curator's request to read LU-A-903 again; the
    app running, with a client per viewer."""
    rerun = _read_feeds(reference_engine, tmp_path)
    headers: dict[str, dict[str, str]] = {"anonymous": {}}
    key_ids = {}
    with Session(reference_engine) as session, session.begin():
        secret = server_secret(session)
        stored_hash = session.scalars(
            sa.select(m.SourceRecord.content_hash).where(m.SourceRecord.source_id == "LU-A-902")
        ).one()
        for viewer, (name, role) in KEYS.items():
            institution = session.scalars(
                sa.select(m.Institution.id).where(m.Institution.name == name)
            ).one()
            token = create_key(session, secret=secret, institution_id=institution, role=role)
            headers[viewer] = {"Authorization": f"Bearer {token.token}"}
            key_ids[viewer] = token.key.id
        ids = _partnership_ids(session)
        suggestion = _pending_suggestion(session)
    ids["the rerun"] = str(relay.GlobalID("IngestRun", str(rerun)))
    # No such node: a suggestion is no Node, but a client may make up the id all the same.
    ids["a suggestion"] = str(relay.GlobalID("MatchSuggestion", str(suggestion)))
    # runIngest's feed: the registry's bundled sample, run by the app itself (no Redis).
    jobs_file = tmp_path / "jobs.toml"
    jobs_file.write_text(f'[feeds.ctgov]\nsource = "{CtGovFeed().sample()}"\n', encoding="utf-8")
    app = create_app(Settings(database_url=database_url, jobs_config=jobs_file))
    clients = {viewer: TestClient(app, headers=headers[viewer]) for viewer in VIEWERS}
    with clients["anonymous"]:
        listed = clients["curator"].post(
            "/graphql", json={"query": "{ quarantinedRecords { nodes { id } } }"}
        )
        (entry,) = listed.json()["data"]["quarantinedRecords"]["nodes"]
        again = (
            "mutation ($id: Int!, $why: String!) "
            "{ requestReingest(id: $id, reason: $why) { status } }"
        )
        asked = clients["curator"].post(
            "/graphql", json={"query": again, "variables": {"id": entry["id"], "why": REASON}}
        )
        assert asked.json()["data"]["requestReingest"]["status"] == "OPEN", asked.text
        yield World(
            engine=reference_engine,
            clients=clients,
            key_ids=key_ids,
            ids=ids,
            content_hash=keyed_hash(secret, stored_hash),
            quarantined=entry["id"],
            suggestion=suggestion,
        )

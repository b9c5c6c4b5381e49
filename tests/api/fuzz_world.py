"""A database for fuzzing: the demo data plus a Lund/Skåne export holding canaries.

Each canary is a value that appears nowhere else, in one protected place: a confidential
amount (the parties and admins see it), an open amount (partners and up), a confidential
amount in a row that fails validation (the quarantine: admins), and the export's path (where
a record was read: curators and admins).  The fuzz tests look for them in every response.
"""

from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

import atmp_graph.model as m
from atmp_graph.access.keys import create_key, server_secret
from atmp_graph.api.demo import load_demo
from atmp_graph.enums import Role
from atmp_graph.ingest import ingest
from atmp_graph.model.database import make_engine
from atmp_graph.plugins.builtin.lund_skane import LundSkaneFeed
from atmp_graph.plugins.manager import build_plugin_host
from tests.databases import migrate

HEADER = (
    "Avtals-ID;Företag;Organisationsnummer;Avtalstyp;Start;Slut;Status;Projekt-ID;"
    "Avtalsvärde (SEK);Konfidentiellt"
)
# Eight digits each, so that no identifier, date or hash of the demo data holds one by chance.
SECRET_AMOUNT, OPEN_AMOUNT, QUARANTINED_AMOUNT = "73141592", "27182818", "99993313"
EXPORT = "canary-export-8c1e"  # in every source path of the export
ROWS = [
    f"LU-A-951;Canary Cell AB;556900-0051;Licensavtal;2024-01-01;;Aktivt;;{SECRET_AMOUNT};Ja",
    f"LU-A-952;Open Vector AB;556900-0052;Licensavtal;2024-01-01;;Aktivt;;{OPEN_AMOUNT};Nej",
    f"LU-A-953;Broken Terms AB;556900-0053;Licensavtal;2024-13-01;;Aktivt;;{QUARANTINED_AMOUNT};Ja",
]

ANONYMOUS, PARTY, OUTSIDER, ADMIN = "anonymous", "party partner", "outsider partner", "admin"
VIEWERS = [ANONYMOUS, PARTY, OUTSIDER, ADMIN]
# Lund University is a party to every Lund/Skåne partnership; LUMC to none of them.
KEYS = {
    PARTY: ("Lund University", Role.PARTNER),
    OUTSIDER: ("Leiden University Medical Center", Role.PARTNER),
    ADMIN: ("Leiden University Medical Center", Role.ADMIN),
}
# Which canaries each viewer must never receive, whatever it asks.
NEVER_SEES = {
    ANONYMOUS: (SECRET_AMOUNT, OPEN_AMOUNT, QUARANTINED_AMOUNT, EXPORT),
    PARTY: (QUARANTINED_AMOUNT, EXPORT),
    OUTSIDER: (SECRET_AMOUNT, QUARANTINED_AMOUNT, EXPORT),
    ADMIN: (),
}


@dataclass(frozen=True)
class FuzzWorld:
    database_url: str
    headers: dict[str, dict[str, str]]  # what each viewer's requests carry


def build_fuzz_world(database_url: str, directory: Path) -> FuzzWorld:
    """Migrate the empty database at `database_url`, load the demo and the canary export."""
    migrate(database_url)
    engine = make_engine(database_url)
    try:
        list(load_demo(engine, build_plugin_host(load_entry_points=False)))
        export = directory / EXPORT
        export.mkdir()
        (export / "partnerships.csv").write_text("\n".join([HEADER, *ROWS]) + "\n", "utf-8-sig")
        report = ingest(engine, LundSkaneFeed(), str(export))
        assert (report.created, report.quarantined) == (2, 1), report.summary()
        headers: dict[str, dict[str, str]] = {ANONYMOUS: {}}
        with Session(engine) as session, session.begin():
            secret = server_secret(session)
            for viewer, (name, role) in KEYS.items():
                institution = session.scalars(
                    sa.select(m.Institution.id).where(m.Institution.name == name)
                ).one()
                key = create_key(session, secret=secret, institution_id=institution, role=role)
                headers[viewer] = {"Authorization": f"Bearer {key.token}"}
    finally:
        engine.dispose()
    return FuzzWorld(database_url, headers)

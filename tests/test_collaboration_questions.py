"""examples/collaboration_questions.py answers its three questions over the API: a server with
the demo data, then a later registry export ingested (STEM-PD completed, with a site in Leiden
besides Lund), and the script, run as a user would, names the products, the partnerships and
the status change."""

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.live_server import serving
from tests.registry_update import NEW_STATUS, OLD_STATUS, write_registry_update

ROOT = Path(__file__).parents[1]
SCRIPT = ROOT / "examples" / "collaboration_questions.py"
COMMAND = str(Path(sys.executable).with_name("atmp-graph"))
PRODUCTS = "Which ATMP products are in trials with sites in both Sweden and the Netherlands?"
PARTNERSHIPS = "Which partnerships are in negotiation?"
STATUS_CHANGES = "Which trials changed status in the last 30 days?"
NEGOTIATING = [
    "LU-A-103 (COLLABORATIVE_RESEARCH): Lund University, Skåne University Hospital with "
    "Öresund Biologics AB, from 2024-03-01",
    "LUMC-C-56 (MANUFACTURING): Leiden University Medical Center with Nordic Cell Process AB, "
    "from 2026-01-01; products: Academic anti-CD19 CAR-T",
]


def answers(base: str) -> dict[str, list[str]]:
    """The script's answers, by question: each answer line without its bullet."""
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--api", base],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    found: dict[str, list[str]] = {}
    for block in result.stdout.strip().split("\n\n"):
        question, *lines = block.splitlines()
        found[question] = [line.removeprefix("  - ") for line in lines if line != "  (none)"]
    return found


def test_the_script_answers_each_question_from_the_api(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'atmp-graph.db'}"
    env = {"ATMP_DATABASE_URL": database_url, "ATMP_LOG_LEVEL": "warning"}
    with serving(COMMAND, "--demo", cwd=tmp_path, env=env) as base:
        before = answers(base)
        # The registry, later: STEM-PD is completed and has a site at LUMC too.
        started = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
        subprocess.run(
            [COMMAND, "ingest", "ctgov", str(write_registry_update(tmp_path / "ctgov-update"))],
            env=os.environ | env, capture_output=True, timeout=120, check=True,
        )  # fmt: skip
        ended = dt.datetime.now(dt.UTC)
        after = answers(base)

    # The demo data has partnerships in negotiation, but no trial in both countries and no
    # status changed since it was loaded.
    assert before == {PRODUCTS: [], PARTNERSHIPS: NEGOTIATING, STATUS_CHANGES: []}

    assert list(after) == [PRODUCTS, PARTNERSHIPS, STATUS_CHANGES]
    # The registry names its intervention STEM-PD with no class; Lund/Skåne's feed, the
    # product it tests, with its class.
    assert after[PRODUCTS] == [
        "STEM-PD (class not given by its feeds): in STEM-PD (NCT05635409) at Lund (SE), "
        "Leiden (NL)",
        "STEM-PD dopaminerga progenitorceller (SCTMP): in STEM-PD (NCT05635409) at Lund (SE), "
        "Leiden (NL)",
    ]
    assert after[PARTNERSHIPS] == NEGOTIATING
    [change] = after[STATUS_CHANGES]
    found = re.fullmatch(
        rf"STEM-PD \(NCT05635409\): {OLD_STATUS} → {NEW_STATUS}, (.+) UTC \(feed ctgov\)", change
    )
    assert found, change
    at = dt.datetime.strptime(found[1], "%Y-%m-%d %H:%M").replace(tzinfo=dt.UTC)
    assert started <= at <= ended

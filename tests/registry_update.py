"""The registry a while after the demo: ClinicalTrials.gov's sample as a later export would read,
with STEM-PD completed and a site at LUMC in Leiden besides Lund and Cambridge. Ingested into
the demo data, it changes one trial's status (an UPDATED event with the old and new value) and
puts a product in a trial with sites in both Sweden and the Netherlands."""

import json
import shutil
from pathlib import Path

from atmp_graph.plugins.builtin.samples import sample_path

STEM_PD = "NCT05635409"
OLD_STATUS, NEW_STATUS = "ACTIVE_NOT_RECRUITING", "COMPLETED"
LEIDEN = {
    "facility": "Leiden University Medical Center",
    "city": "Leiden",
    "country": "Netherlands",
}


def write_registry_update(directory: Path) -> Path:
    """The ctgov sample's studies in `directory`, STEM-PD's changed as above; the directory."""
    shutil.copytree(sample_path("ctgov"), directory)
    path = directory / f"{STEM_PD}.json"
    study = json.loads(path.read_text(encoding="utf-8"))
    protocol = study["protocolSection"]
    assert protocol["statusModule"]["overallStatus"] == OLD_STATUS
    protocol["statusModule"]["overallStatus"] = NEW_STATUS
    protocol["contactsLocationsModule"]["locations"].append(LEIDEN)
    path.write_text(json.dumps(study, indent=1), encoding="utf-8")
    return directory

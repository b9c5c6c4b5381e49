"""A ClinicalTrials.gov export written for the list tests: studies with exactly the acronyms,
phases, dates, enrollments, sponsors and site countries a test orders and filters by."""

import json
from pathlib import Path
from typing import Any

COUNTRIES = {"SE": "Sweden", "NL": "Netherlands", "GB": "United Kingdom"}


def study(
    nct_id: str,
    *,
    acronym: str | None = None,
    phase: str | None = None,
    start: str | None = None,
    enrollment: int | None = None,
    sponsor: str | None = None,
    countries: tuple[str, ...] = (),
) -> dict[str, Any]:
    """One study in the registry's API v2 shape; a site per country given (named by it)."""
    identification: dict[str, Any] = {"nctId": nct_id, "briefTitle": f"Study {nct_id}"}
    if acronym is not None:
        identification["acronym"] = acronym
    design: dict[str, Any] = {"studyType": "INTERVENTIONAL"}
    if phase is not None:
        # The registry lists a combined phase as its two: PHASE1_PHASE2 is PHASE1 and PHASE2.
        combined = phase.startswith("PHASE") and "_" in phase
        design["phases"] = phase.split("_") if combined else [phase]
    if enrollment is not None:
        design["enrollmentInfo"] = {"count": enrollment}
    status: dict[str, Any] = {"overallStatus": "RECRUITING"}
    if start is not None:
        status["startDateStruct"] = {"date": start}
    protocol: dict[str, Any] = {
        "identificationModule": identification,
        "statusModule": status,
        "designModule": design,
        "contactsLocationsModule": {
            "locations": [
                {"facility": f"Site {n} of {nct_id}", "city": f"City {n}", "country": COUNTRIES[c]}
                for n, c in enumerate(countries, start=1)
            ]
        },
    }
    if sponsor is not None:
        protocol["sponsorCollaboratorsModule"] = {
            "leadSponsor": {"name": sponsor, "class": "OTHER"}
        }
    return {"protocolSection": protocol}


def write_studies(path: Path, studies: list[dict[str, Any]]) -> str:
    """The studies as one page of the registry's API, written to `path`."""
    path.write_text(json.dumps({"studies": studies}), encoding="utf-8")
    return str(path)

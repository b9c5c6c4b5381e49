"""Generated exports in the feeds' own shapes, for benchmarks and tests that need many records."""

import json
from pathlib import Path

PRODUCTS_HEADER = (
    "Produkt-ID;Namn;ATMP-klass;Modalitet;Utvecklingsfas;Indikation;Tillverkningsställe"
)
TRIALS_HEADER = (
    "Studie-ID;NCT;EudraCT;Titel;Fas;Status;Sponsor;Antal patienter;Diagnos;Produkt-ID;"
    "Prövningsställen;Startdatum"
)


def write_trials_export(directory: Path, count: int) -> Path:
    """`count` trials, each with its own product, two sites and two conditions."""
    directory.mkdir(parents=True, exist_ok=True)
    products = [PRODUCTS_HEADER] + [
        f"GEN-P-{n:05d};Product {n};GTMP;Genterapi;Fas I;Condition {n % 7}|Condition {n % 3 + 10};"
        for n in range(count)
    ]
    trials = [TRIALS_HEADER] + [
        f"GEN-T-{n:05d};NCT{90000000 + n};;Generated trial {n};I;Rekryterar;Region Skåne;{n};"
        f"Condition {n % 7}|Condition {n % 3 + 10};GEN-P-{n:05d};"
        f"Skånes universitetssjukhus, Lund|Site {n % 5}, Leiden;2024-01-01"
        for n in range(count)
    ]
    for name, lines in (("products.csv", products), ("trials.csv", trials)):
        (directory / name).write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    return directory


def write_flat_trials_export(directory: Path, count: int) -> Path:
    """`count` trials with a registry id, sponsor, phase, status and start date, and nothing
    else, written line by line (the generator never holds them all)."""
    phases = ["I", "I/II", "II", "II/III", "III", "IV"]
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / "trials.csv").open("w", encoding="utf-8-sig") as export:
        export.write(TRIALS_HEADER + "\n")
        for n in range(count):
            export.write(
                f"B-{n:07d};NCT{10000000 + n};;Benchmark trial {n};{phases[n % len(phases)]};"
                f"Rekryterar;Region Skåne;{n % 500};;;;2024-{n % 12 + 1:02d}-01\n"
            )
    return directory


def _study(n: int, locations: int) -> dict[str, object]:
    """Generated study `n` in the ClinicalTrials.gov API v2 shape: one biological, two
    conditions, `locations` sites, a lead sponsor out of fifty."""
    return {
        "protocolSection": {
            "identificationModule": {
                "nctId": f"NCT{20000000 + n}",
                "orgStudyIdInfo": {"id": f"GEN-T-{n:06d}"},
                "briefTitle": f"Generated trial {n}",
            },
            "statusModule": {
                "overallStatus": "RECRUITING",
                "startDateStruct": {"date": f"2024-{n % 12 + 1:02d}-01"},
                "lastUpdatePostDateStruct": {"date": "2026-01-15"},
            },
            "sponsorCollaboratorsModule": {
                "leadSponsor": {"name": f"Sponsor {n % 50}", "class": "OTHER"}
            },
            "conditionsModule": {"conditions": [f"Condition {n % 7}", f"Condition {n % 3 + 10}"]},
            "designModule": {
                "studyType": "INTERVENTIONAL",
                "phases": ["PHASE1"],
                "enrollmentInfo": {"count": n % 500},
            },
            "armsInterventionsModule": {
                "interventions": [{"type": "BIOLOGICAL", "name": f"Product {n}"}]
            },
            "contactsLocationsModule": {
                "locations": [
                    {"facility": f"Site {(n + k) % 40}", "city": f"City {k}", "country": "Sweden"}
                    for k in range(locations)
                ]
            },
        }
    }


def write_ctgov_pages(
    directory: Path, count: int, *, locations: int = 5, page_size: int = 100
) -> Path:
    """`count` generated studies as API v2 page files (`{"studies": [...]}`), a page at a time."""
    directory.mkdir(parents=True, exist_ok=True)
    for first in range(0, count, page_size):
        studies = [_study(n, locations) for n in range(first, min(first + page_size, count))]
        page = {"studies": studies, "nextPageToken": f"page-{first + page_size}"}
        (directory / f"page-{first // page_size:05d}.json").write_text(json.dumps(page))
    return directory


def write_csv_twin_of_ctgov(directory: Path, count: int, *, locations: int = 5) -> Path:
    """The studies of `write_ctgov_pages` in the Lund/Skåne CSV shape: the same product, trial,
    sponsor, conditions and sites for each."""
    directory.mkdir(parents=True, exist_ok=True)
    products = [PRODUCTS_HEADER] + [f"GEN-P-{n:06d};Product {n};;;;;" for n in range(count)]
    trials = [TRIALS_HEADER] + [
        f"GEN-T-{n:06d};NCT{20000000 + n};;Generated trial {n};I;Rekryterar;Sponsor {n % 50};"
        f"{n % 500};Condition {n % 7}|Condition {n % 3 + 10};GEN-P-{n:06d};"
        + "|".join(f"Site {(n + k) % 40}, City {k}" for k in range(locations))
        + f";2024-{n % 12 + 1:02d}-01"
        for n in range(count)
    ]
    for name, lines in (("products.csv", products), ("trials.csv", trials)):
        (directory / name).write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    return directory

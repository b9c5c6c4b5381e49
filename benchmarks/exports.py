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


def _sites(n: int, locations: int, sponsors: int | None) -> list[dict[str, str]]:
    """Study `n`'s locations: facilities out of forty, or (with `sponsors`) at its own lead
    sponsor and those of the studies after it, so every site is at a known institution.
    (Those sponsors are named in the same batch of the ingest, mostly: a site named before its
    institution is placed again when the institution appears, which costs a trial's whole
    resolution.)"""
    if sponsors is None:
        return [
            {"facility": f"Site {(n + k) % 40}", "city": f"City {k}", "country": "Sweden"}
            for k in range(locations)
        ]
    assert locations <= sponsors, "each of a study's sites must be a different institution"
    return [
        {"facility": f"Sponsor {(n + k) % sponsors}", "city": f"City {k}", "country": "Sweden"}
        for k in range(locations)
    ]


def _study(
    n: int, locations: int, *, sponsors: int = 50, sites_at_sponsors: bool = False
) -> dict[str, object]:
    """Generated study `n` in the ClinicalTrials.gov API v2 shape: one biological, two
    conditions, `locations` sites, a lead sponsor out of `sponsors`."""
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
                "leadSponsor": {"name": f"Sponsor {n % sponsors}", "class": "OTHER"}
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
                "locations": _sites(n, locations, sponsors if sites_at_sponsors else None)
            },
        }
    }


def write_ctgov_pages(
    directory: Path,
    count: int,
    *,
    locations: int = 5,
    page_size: int = 100,
    sponsors: int = 50,
    sites_at_sponsors: bool = False,
) -> Path:
    """`count` generated studies as API v2 page files (`{"studies": [...]}`), a page at a time.

    Study n's lead sponsor is `Sponsor {n % sponsors}`; with `sites_at_sponsors` its sites are
    at other sponsors too (each sponsor then hosts count × locations / sponsors sites)."""
    directory.mkdir(parents=True, exist_ok=True)
    for first in range(0, count, page_size):
        studies = [
            _study(n, locations, sponsors=sponsors, sites_at_sponsors=sites_at_sponsors)
            for n in range(first, min(first + page_size, count))
        ]
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

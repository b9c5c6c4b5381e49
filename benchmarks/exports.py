"""Generated exports in the feeds' own shapes, for benchmarks and tests that need many records."""

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

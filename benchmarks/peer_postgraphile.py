"""Our API against PostGraphile v5 on the same PostgreSQL: requests/s, latency, CPU per request.

One command installs the peer (PostGraphile 5.1.5 on Node 22, from benchmarks/peer's
lockfile) and wrk, starts a PostgreSQL 15 of its own on a free port (pg_stat_statements
preloaded, connections logged), fills it through our own code (migrations, then 20,000
ClinicalTrials.gov studies through the ctgov feed: 2,000 institutions, 100,000 sites), runs
PostGraphile (one Node process) and our server (uvicorn, 1 and 2 workers) against it, checks
that both answer the two questions with the same values, and loads each with wrk: 3 rounds of
10 s, alternating peer and us.  It prints a markdown table per question with the median round
and the ratio ours / peer, and exits 0 whatever the numbers.  Everything runs on 127.0.0.1.

    python benchmarks/peer_postgraphile.py [--quick] [--seconds S] [--rounds N] [--json FILE]

--quick: 2,000 studies (10,000 sites), runs of 2 s, one round.
"""

import argparse
import dataclasses
import functools
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx2
from sqlalchemy import func, select, text

sys.path.insert(0, str(Path(__file__).parents[1]))

import atmp_graph.model as m
from atmp_graph.ingest import ingest
from atmp_graph.model.database import make_engine, upgrade
from atmp_graph.plugins.builtin.ctgov import CtGovFeed
from benchmarks import peer_servers, wrk
from benchmarks.exports import write_ctgov_pages
from benchmarks.own_postgres import own_postgres
from benchmarks.peer_meter import SERVER_SETTINGS, Meter
from benchmarks.peer_queries import (
    CASES,
    Case,
    cursor_query,
    our_body,
    our_pages,
    our_trials,
    peer_body,
    peer_trials,
)
from benchmarks.peer_report import Run, alone_table, median_run, ratios, table
from benchmarks.peer_servers import PEER_LABEL

INSTITUTIONS, SITES_PER_TRIAL = 2_000, 5
# Seconds of one request at a time at each server (CPU is counted in 10 ms ticks); quick: 0.5.
ALONE_SECONDS = 2.0
# (label, GraphQL URL, process id) of a running server.
Server = tuple[str, str, int]


def fill(url: str, trials: int, workdir: Path) -> dict[str, float]:
    """Migrations, then the studies through the ctgov feed, then VACUUM ANALYZE (so that no
    autovacuum runs during the timing); the counts."""
    upgrade(url)
    engine = make_engine(url)
    pages = write_ctgov_pages(
        workdir / "ctgov",
        trials,
        locations=SITES_PER_TRIAL,
        sponsors=min(INSTITUTIONS, trials),
        sites_at_sponsors=True,
    )
    started = time.perf_counter()
    report = ingest(engine, CtGovFeed(), str(pages))
    seconds = time.perf_counter() - started
    assert report.quarantined == 0, report.summary()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
        every = select(func.count())
        counts = {
            name: connection.scalar(query) or 0
            for name, query in {
                "trials": every.select_from(m.ClinicalTrial),
                "institutions": every.select_from(m.Institution),
                "sites": every.select_from(m.TrialSite),
                "sites_at_an_institution": every.where(m.TrialSite.institution_id.is_not(None)),
            }.items()
        }
    engine.dispose()
    print(f"ingested {report.read:,} records in {seconds:.1f} s: {counts}", flush=True)
    return counts | {"ingest_seconds": round(seconds, 1)}


# One client, so one request alone costs the servers no new TCP connection each.
_CLIENT = httpx2.Client(headers={"Content-Type": "application/json"}, timeout=120)


def _post(url: str, body: bytes) -> dict[str, Any]:
    response = _CLIENT.post(url, content=body)
    answer: dict[str, Any] = response.json()
    assert response.status_code == 200, (url, response.status_code, answer)
    assert "errors" not in answer, (url, answer)
    return answer


def our_cursors(url: str, pages: int) -> list[str]:
    """The `after` cursors of our pages 2 … `pages`, read once before the timing."""
    cursors: list[str] = []
    for _ in range(pages - 1):
        answer = _post(url, cursor_query(cursors[-1] if cursors else None))
        cursors.append(answer["data"]["trials"]["pageInfo"]["endCursor"])
    return cursors


def check_same_answers(case: Case, peer: tuple[str, bytes], ours: tuple[list[str], bytes]) -> None:
    """The peer and each of our servers give the same trials and sites, all of them at an
    institution."""
    theirs = peer_trials(_post(*peer))
    assert len(theirs) == case.trials, f"{case.name}: the peer gave {len(theirs)} trials"
    sites = [site for trial in theirs for site in trial[4]]
    assert len(sites) == case.trials * SITES_PER_TRIAL, f"{case.name}: {len(sites)} sites"
    assert all(site[2] for site in sites), f"{case.name}: a site at no institution"
    urls, body = ours
    for url in urls:
        assert our_trials(_post(url, body)) == theirs, f"{case.name}: {url} answers otherwise"
    print(f"{case.name}: both servers give the same {len(theirs)} trials, {len(sites)} sites: ok")


def machine(meter: Meter) -> dict[str, Any]:
    wrk_version = subprocess.run(
        [wrk.wrk_binary(), "-v"], capture_output=True, text=True, check=False
    )
    return {
        "cores": os.cpu_count(),
        "load_average_at_start": os.getloadavg(),
        "python": platform.python_version(),
        "node": peer_servers.node_version(),
        "postgresql": meter.version(),
        "wrk": (wrk_version.stdout or wrk_version.stderr).split(" [")[0],
    }


def measure_case(
    case: Case, started: list[Server], meter: Meter, workdir: Path, args: argparse.Namespace
) -> tuple[dict[str, list[Run]], dict[str, dict[str, Any]]]:
    """Check both answers agree, warm every server up, measure one request alone at each,
    then the rounds, alternating servers; the runs and the requests alone, by server."""
    (_, peer_url, _), *ours = started
    theirs = peer_body(case)
    mine = our_body(case, our_cursors(ours[0][1], our_pages(case)))
    check_same_answers(case, (peer_url, theirs), ([url for _, url, _ in ours], mine))
    bodies = {label: theirs if label == PEER_LABEL else mine for label, _, _ in started}
    scripts = {
        label: wrk.lua_script(workdir / f"{case.name}-{n}.lua", body)
        for n, (label, body) in enumerate(bodies.items())
    }
    for label, url, pid in started if args.warmup else ():  # pools, caches, V8's JIT
        wrk.run(url, scripts[label], seconds=args.warmup, connections=case.connections,
                threads=case.threads)  # fmt: skip
        meter.wait_until_idle(pid)
    alone = {
        label: meter.alone(pid, functools.partial(_post, url, bodies[label]), seconds=args.alone)
        for label, url, pid in started
    }
    runs: dict[str, list[Run]] = {label: [] for label, _, _ in started}
    for round_ in range(args.rounds):
        for server in started:
            label = server[0]
            run = meter.run(
                server, case, round_=round_, script=scripts[label], seconds=args.seconds
            )
            runs[label].append(run)
            print(f"{case.name}, round {round_ + 1}, {label}: "
                  f"{run.load.per_second:,.1f} requests/s", flush=True)  # fmt: skip
    return runs, alone


def measure(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    installed = peer_servers.install_peer()
    peer_servers.install_wrk()
    print(f"PostGraphile installed ({installed:.1f} s of npm ci)", flush=True)
    with own_postgres(SERVER_SETTINGS) as cluster:
        counts = fill(cluster.url, args.trials, workdir)
        meter = Meter(cluster)
        report: dict[str, Any] = {
            "machine": machine(meter),
            "data": counts,
            "settings": {
                "seconds": args.seconds,
                "rounds": args.rounds,
                "warmup_seconds": args.warmup,
                "alone_seconds": args.alone,
                "npm_ci_seconds": round(installed, 1),
                "postgresql": SERVER_SETTINGS,
            },
            "cases": {},
        }
        libpq = cluster.url.replace("postgresql+psycopg://", "postgres://", 1)
        launches = [peer_servers.peer(libpq)] + [
            peer_servers.ours(cluster.url, workers, workdir) for workers in (1, 2)
        ]
        with peer_servers.serving(launches, workdir) as started:
            for case in CASES:
                runs, alone = measure_case(case, started, meter, workdir, args)
                medians = {label: median_run(found) for label, found in runs.items()}
                print("\n" + table(case, medians, rounds=args.rounds, seconds=args.seconds))
                print("\n" + alone_table(alone))
                print(flush=True)
                report["cases"][case.name] = {
                    "servers": {
                        label: {
                            "median": median.summary(),
                            "requests_per_second_spread": statistics.pstdev(
                                [run.load.per_second for run in runs[label]]
                            ),
                            "alone": alone[label],
                            "rounds": [dataclasses.asdict(run) for run in runs[label]],
                        }
                        for label, median in medians.items()
                    },
                    "ours_over_peer": ratios(case, medians),
                }
        meter.close()
    # Other work on the machine shows here: the runs themselves add about 2 to a 1-minute load.
    report["machine"]["load_average_at_end"] = os.getloadavg()
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 studies, 2 s, one round")
    parser.add_argument("--seconds", type=int, help="length of each wrk run (10; quick 2)")
    parser.add_argument("--rounds", type=int, help="rounds of runs (3; quick 1)")
    parser.add_argument(
        "--warmup",
        type=int,
        default=2,
        help="seconds of unmeasured load at each server first (0: none)",
    )
    parser.add_argument("--json", type=Path, help="write the raw numbers to this file")
    args = parser.parse_args()
    args.trials = 2_000 if args.quick else 20_000
    args.seconds = args.seconds or (2 if args.quick else 10)
    args.rounds = args.rounds or (1 if args.quick else 3)
    args.alone = ALONE_SECONDS / 4 if args.quick else ALONE_SECONDS
    with tempfile.TemporaryDirectory(prefix="atmp-peer-") as folder:
        report = measure(args, Path(folder))
    about = report["machine"]
    start, end = about["load_average_at_start"][0], about["load_average_at_end"][0]
    print(
        f"machine: {about['cores']} cores, load average {start:.2f} at the start and {end:.2f} "
        f"at the end; Python {about['python']}, Node {about['node']}, PostgreSQL "
        f"{about['postgresql']}, {about['wrk']}; PostGraphile runs as one Node process"
    )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        print(f"raw numbers: {args.json}")


if __name__ == "__main__":
    main()

"""The embedded default: `serve`'s app on SQLite without Redis runs runIngest itself, in a
thread of its own, under the same lease; and an app with no jobs file says it runs none."""

import base64
import os
import socket
from pathlib import Path

from atmp_graph.api.settings import Settings
from tests.jobs.conftest import CTGOV_SAMPLE, RUN_INGEST, admin_of, write_jobs_file


def test_without_redis_the_server_runs_the_ingest_itself(tmp_path: Path) -> None:
    jobs_file = write_jobs_file(tmp_path, {"ctgov": {"source": CTGOV_SAMPLE}})
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'atmp-graph.db'}", jobs_config=jobs_file
    )

    with admin_of(settings) as admin:
        queued = admin.run_ingest("ctgov")
        run = admin.wait_for_end(queued["id"])
        trials = admin.graphql.execute("{ trials { nodes { nctId } } }")["trials"]["nodes"]

    assert (run["status"], run["read"], run["created"]) == ("SUCCEEDED", 4, 4)
    assert run["worker"].rsplit(":", 1)[0] == f"{socket.gethostname()}:{os.getpid()}"
    assert {trial["nctId"] for trial in trials} == {"NCT05635409", "NCT04797260"}


RUN_HISTORY = """{ changes(filter: {kinds: [RUN_QUEUED, RUN_STARTED, RUN_PROGRESS,
  RUN_FINISHED]}, first: 100) { nodes { kind runId report { status read created } } } }"""


def test_a_queued_run_is_told_as_queued_then_started_then_finished(tmp_path: Path) -> None:
    jobs_file = write_jobs_file(tmp_path, {"ctgov": {"source": CTGOV_SAMPLE}})
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'atmp-graph.db'}", jobs_config=jobs_file
    )

    with admin_of(settings) as admin:
        queued = admin.run_ingest("ctgov")
        admin.wait_for_end(queued["id"])
        history = admin.graphql.execute(RUN_HISTORY)["changes"]["nodes"]

    run_id = int(base64.b64decode(queued["id"]).decode().split(":")[1])
    kinds = [event["kind"] for event in history if event["runId"] == run_id]
    assert kinds[0] == "RUN_QUEUED", (kinds, history)
    assert kinds[1] == "RUN_STARTED"
    assert kinds[-1] == "RUN_FINISHED"
    assert set(kinds[2:-1]) <= {"RUN_PROGRESS"}
    assert history[-1]["report"] == {"status": "SUCCEEDED", "read": 4, "created": 4}


def test_a_feed_the_jobs_file_does_not_name_is_refused_naming_those_it_does(
    tmp_path: Path,
) -> None:
    jobs_file = write_jobs_file(tmp_path, {"ctgov": {"source": CTGOV_SAMPLE}})
    url = f"sqlite:///{tmp_path / 'atmp-graph.db'}"

    with admin_of(Settings(database_url=url, jobs_config=jobs_file)) as admin:
        unknown = admin.graphql.post(RUN_INGEST, {"feed": "lumc"})
    with admin_of(Settings(database_url=url)) as admin:
        unconfigured = admin.graphql.post(RUN_INGEST, {"feed": "ctgov"})
        runs = admin.runs()

    assert unknown["errors"][0]["message"] == (
        "feed: the jobs file names no feed 'lumc'; it names: ctgov"
    )
    assert unconfigured["errors"][0]["message"] == (
        "feed: this server runs no ingest jobs: it was started without a jobs file "
        "(ATMP_JOBS_CONFIG)"
    )
    assert unconfigured["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert runs == []

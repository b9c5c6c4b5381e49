"""The jobs file: the example's feeds and schedules, and every mistake refused in one
sentence that names the file, the feed and the field."""

import datetime as dt
import zoneinfo
from pathlib import Path

import pytest
from click.testing import CliRunner

from atmp_graph.api.cli import main
from atmp_graph.jobs import JobsConfigError, load_jobs_config
from atmp_graph.jobs.schedule import parse_schedule
from atmp_graph.plugins.manager import build_plugin_host
from tests.conftest import REDIS_URL

EXAMPLE = Path(__file__).parents[2] / "examples" / "jobs.toml"
FEEDS = build_plugin_host(load_entry_points=False).feeds()
STOCKHOLM = zoneinfo.ZoneInfo("Europe/Stockholm")
API = 'source = "https://clinicaltrials.gov/api/v2/studies"'


def _utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def test_the_example_syncs_the_registry_nightly_and_the_partners_on_weekday_mornings() -> None:
    config = load_jobs_config(EXAMPLE, FEEDS)

    friday_noon = _utc("2026-12-04T11:00:00")
    due = {
        job.feed: None if job.schedule is None else job.schedule.next_after(friday_noon)
        for job in config.feeds.values()
    }
    assert due == {
        "ctgov": _utc("2026-12-05T01:30:00"),  # 02:30 in Stockholm
        "lund_skane": _utc("2026-12-07T05:00:00"),  # Monday 06:00
        "lumc": _utc("2026-12-07T05:00:00"),
        "collaboration": None,
    }
    ctgov, lumc = config.feeds["ctgov"], config.feeds["lumc"]
    assert (ctgov.source, ctgov.full, dict(ctgov.settings)) == (
        "https://clinicaltrials.gov/api/v2/studies",
        False,
        {"query": "ATMP OR gene therapy OR cell therapy", "page_size": 200},
    )
    assert Path(lumc.source) == (EXAMPLE.parent.parent / "plugins/builtin/data/lumc").resolve()
    assert (lumc.max_retired_share, config.feeds["collaboration"].full) == (0.05, True)
    assert (config.worker.lease_seconds, config.worker.tick_seconds) == (60, 15)


@pytest.mark.parametrize(
    ("schedule", "after", "due"),
    [
        ("@daily", "2026-12-01T00:00:00", "2026-12-02T00:00:00"),
        ("@hourly", "2026-12-01T10:59:59", "2026-12-01T11:00:00"),
        ("*/15 * * * *", "2026-12-01T10:15:00", "2026-12-01T10:30:00"),
        ("@every 1h30m", "2026-12-01T10:00:00", "2026-12-01T11:30:00"),
        ("@every 2s", "2026-12-01T10:00:00", "2026-12-01T10:00:02"),
    ],
)
def test_a_schedule_is_next_due_strictly_after_the_moment_it_is_asked(
    schedule: str, after: str, due: str
) -> None:
    parsed = parse_schedule(schedule, timezone=zoneinfo.ZoneInfo("UTC"))

    assert parsed.next_after(_utc(after)) == _utc(due)


def test_a_nightly_schedule_keeps_its_local_hour_across_the_change_to_summer_time() -> None:
    nightly = parse_schedule("0 3 * * *", timezone=STOCKHOLM)

    assert nightly.next_after(_utc("2026-03-28T12:00:00")) == _utc("2026-03-29T01:00:00")
    assert nightly.next_after(_utc("2026-03-27T12:00:00")) == _utc("2026-03-28T02:00:00")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("feeds = [", "is not TOML: Invalid value (at end of document)"),
        ("[worker]\nthreads = 2", "feeds: field required"),
        ("[feeds]", "feeds: dictionary should have at least 1 item after validation, not 0"),
        (
            '[feeds.nope]\nsource = "x"',
            "feeds.nope: there is no feed named 'nope'; the feeds are: collaboration, ctgov, "
            "lumc, lund_skane",
        ),
        ('[feeds.ctgov]\nschedule = "@daily"', "feeds.ctgov.source: field required"),
        (
            f'[feeds.ctgov]\n{API}\nshedule = "@daily"',
            "feeds.ctgov.shedule: extra inputs are not permitted",
        ),
        (
            f'[feeds.ctgov]\n{API}\nschedule = "0 25 * * *"',
            "feeds.ctgov.schedule: '0 25 * * *' is not a cron expression: bad hour",
        ),
        (
            f'[feeds.ctgov]\n{API}\nschedule = "0 0 2 * * *"',
            "feeds.ctgov.schedule: '0 0 2 * * *' is not a cron expression: it has 6 fields, "
            "not 5 (minute hour day-of-month month day-of-week)",
        ),
        (
            f'[feeds.ctgov]\n{API}\nschedule = "@nightly"',
            "feeds.ctgov.schedule: '@nightly' is not a schedule this knows (@yearly, @annually, "
            "@monthly, @weekly, @daily, @midnight, @hourly, @every 30s)",
        ),
        (
            f"[feeds.ctgov]\n{API}\nsettings = {{ page_size = 0 }}",
            "feeds.ctgov.settings.page_size: input should be greater than or equal to 1",
        ),
        (
            f"[feeds.ctgov]\n{API}\nsettings = {{ pagesize = 10 }}",
            "feeds.ctgov.settings.pagesize: extra inputs are not permitted",
        ),
        (
            f"[feeds.ctgov]\n{API}\nmax_retired_percent = 120",
            "feeds.ctgov.max_retired_percent: input should be less than or equal to 100",
        ),
        (
            f"[worker]\nlease_seconds = 0\n[feeds.ctgov]\n{API}",
            "worker.lease_seconds: input should be greater than 0",
        ),
        (
            f'timezone = "Mars/Olympus"\n[feeds.ctgov]\n{API}',
            "timezone: 'Mars/Olympus' is not a time zone (such as Europe/Stockholm or UTC)",
        ),
        ('[feeds.lumc]\nsource = "exports/lumc"', "feeds.lumc.source: {folder}/exports/lumc "
         "does not exist"),
    ],
)  # fmt: skip
def test_a_mistake_is_refused_naming_the_file_the_feed_and_the_field(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = tmp_path / "jobs.toml"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(JobsConfigError) as refused:
        load_jobs_config(path, FEEDS)

    assert str(refused.value) == f"{path}: {problem.format(folder=tmp_path)}"


def test_the_worker_refuses_a_wrong_jobs_file_in_one_sentence(tmp_path: Path) -> None:
    path = tmp_path / "jobs.toml"
    path.write_text(f'[feeds.ctgov]\n{API}\nschedule = "0 25 * * *"', encoding="utf-8")
    environment = {"ATMP_DATABASE_URL": f"sqlite:///{tmp_path / 'db'}", "ATMP_REDIS_URL": REDIS_URL}

    result = CliRunner().invoke(main, ["worker", "--config", str(path)], env=environment)

    assert (result.exit_code, result.output) == (
        1,
        f"Error: {path}: feeds.ctgov.schedule: '0 25 * * *' is not a cron expression: bad hour\n",
    )


def test_the_worker_needs_redis_and_says_so(tmp_path: Path) -> None:
    environment = {"ATMP_DATABASE_URL": f"sqlite:///{tmp_path / 'db'}", "ATMP_REDIS_URL": ""}

    result = CliRunner().invoke(main, ["worker", "--config", str(EXAMPLE)], env=environment)

    assert (result.exit_code, result.output) == (
        1,
        "Error: the worker takes its jobs from Redis: set ATMP_REDIS_URL (without Redis, "
        "`atmp-graph serve` runs the jobs itself)\n",
    )


def test_serve_refuses_a_wrong_jobs_file_before_it_starts(tmp_path: Path) -> None:
    path = tmp_path / "jobs.toml"
    path.write_text('[feeds.nope]\nsource = "x"', encoding="utf-8")
    environment = {
        "ATMP_DATABASE_URL": f"sqlite:///{tmp_path / 'db'}",
        "ATMP_JOBS_CONFIG": str(path),
        "ATMP_PLUGINS_FROM_ENTRY_POINTS": "false",
    }

    result = CliRunner().invoke(main, ["serve"], env=environment)

    assert (result.exit_code, result.output) == (
        1,
        f"Error: {path}: feeds.nope: there is no feed named 'nope'; the feeds are: "
        "collaboration, ctgov, lumc, lund_skane\n",
    )

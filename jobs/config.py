"""The jobs file: which feeds the workers sync, from where, with which settings and when.

```toml
timezone = "Europe/Stockholm"     # the clock the schedules are read in (default UTC)

[worker]
lease_seconds = 60                # a feed's lease outlives its worker's last heartbeat by this
tick_seconds = 15                 # how often each worker looks at the schedules and the leases
threads = 2                       # feeds one worker runs at once (never one feed twice)

[feeds.ctgov]
source = "https://clinicaltrials.gov/api/v2/studies"
schedule = "30 2 * * *"           # nightly at 02:30; only what is new since the last complete run
settings = { query = "gene therapy", page_size = 200 }
```

Every mistake is refused when the file is read, in one sentence that names the file, the feed
and the field: a worker or a server never starts with a schedule it cannot keep.
"""

import tomllib
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from atmp_graph.jobs.schedule import Schedule, ScheduleError, parse_schedule
from atmp_graph.plugins.feeds import FeedAdapter


class JobsConfigError(ValueError):
    """The jobs file cannot be used; the message names the file, the feed and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WorkerOptions(_Strict):
    lease_seconds: float = Field(default=60, gt=0)
    tick_seconds: float = Field(default=15, gt=0)
    threads: int = Field(default=2, ge=1, le=64)


class _FeedEntry(_Strict):
    source: str = Field(min_length=1)
    schedule: str | None = None
    full: bool = False
    max_retired_percent: float = Field(default=20, ge=0, le=100)
    settings: dict[str, Any] = Field(default_factory=dict)


class _JobsFile(_Strict):
    timezone: str = "UTC"
    worker: WorkerOptions = WorkerOptions()
    feeds: dict[str, _FeedEntry] = Field(min_length=1)


@dataclass(frozen=True)
class FeedJob:
    """One feed as the jobs file has it: a relative path is taken from the file's folder."""

    feed: str
    source: str
    schedule: Schedule | None
    full: bool
    max_retired_share: float
    settings: Mapping[str, Any]


@dataclass(frozen=True)
class JobsConfig:
    path: Path
    worker: WorkerOptions
    feeds: Mapping[str, FeedJob]

    @property
    def scheduled(self) -> list[FeedJob]:
        return [job for job in self.feeds.values() if job.schedule is not None]


def load_jobs_config(path: Path, adapters: Mapping[str, FeedAdapter]) -> JobsConfig:
    """The jobs file at `path`, checked against the feeds the plugin host serves."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise JobsConfigError(f"{path}: cannot be read: {error.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise JobsConfigError(f"{path}: is not TOML: {error}") from None
    try:
        parsed = _JobsFile.model_validate(data)
    except ValidationError as error:
        raise JobsConfigError(f"{path}: {_reasons(error)}") from None
    try:
        timezone = zoneinfo.ZoneInfo(parsed.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise JobsConfigError(
            f"{path}: timezone: {parsed.timezone!r} is not a time zone (such as "
            "Europe/Stockholm or UTC)"
        ) from None
    feeds = {
        name: _feed_job(path, name, entry, adapters, timezone)
        for name, entry in parsed.feeds.items()
    }
    return JobsConfig(path=path, worker=parsed.worker, feeds=feeds)


def _feed_job(
    path: Path,
    name: str,
    entry: _FeedEntry,
    adapters: Mapping[str, FeedAdapter],
    timezone: zoneinfo.ZoneInfo,
) -> FeedJob:
    where = f"{path}: feeds.{name}"
    adapter = adapters.get(name)
    if adapter is None:
        known = ", ".join(sorted(adapters))
        raise JobsConfigError(f"{where}: there is no feed named {name!r}; the feeds are: {known}")
    schedule = None
    if entry.schedule is not None:
        try:
            schedule = parse_schedule(entry.schedule, timezone=timezone)
        except ScheduleError as error:
            raise JobsConfigError(f"{where}.schedule: {error}") from None
    try:
        adapter.config_model.model_validate(entry.settings)
    except ValidationError as error:
        prefix = f"feeds.{name}.settings."
        raise JobsConfigError(f"{path}: {_reasons(error, prefix=prefix)}") from None
    return FeedJob(
        feed=name,
        source=_source(path, where, entry.source),
        schedule=schedule,
        full=entry.full,
        max_retired_share=entry.max_retired_percent / 100,
        settings=dict(entry.settings),
    )


def _source(path: Path, where: str, source: str) -> str:
    if "://" in source:
        return source
    local = (path.parent / source).resolve()
    if not local.exists():
        raise JobsConfigError(f"{where}.source: {local} does not exist")
    return str(local)


def _reasons(error: ValidationError, *, prefix: str = "") -> str:
    """Each problem as `field.path: reason`, as the rest of the project words them."""
    return "; ".join(
        f"{prefix}{'.'.join(str(part) for part in detail['loc'])}: "
        f"{detail['msg'][:1].lower()}{detail['msg'][1:]}"
        for detail in error.errors()
    )

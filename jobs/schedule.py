"""When a feed is due: a cron expression (five fields, as Debian's cron reads them), one of
cron's names for the common ones (`@daily`, `@hourly`, ...), or an interval (`@every 30s`,
`@every 1h30m`) for feeds that want one, and for tests that cannot wait a minute."""

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass

from cronsim import CronSim, CronSimError

NAMED = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_EVERY = re.compile(r"^@every\s+((?:\d+[hms])+)$")
_PART = re.compile(r"(\d+)([hms])")
_UNIT_SECONDS = {"h": 3600, "m": 60, "s": 1}


class ScheduleError(ValueError):
    """The text is no schedule; the message says why, in a few words."""


@dataclass(frozen=True)
class Schedule:
    """A parsed schedule: `text` as configured, and the clock its cron fields are read in."""

    text: str
    timezone: zoneinfo.ZoneInfo
    cron: str | None = None
    interval: dt.timedelta | None = None

    def next_after(self, moment: dt.datetime) -> dt.datetime:
        """The first time strictly after `moment` that the schedule is due, in UTC."""
        if self.interval is not None:
            return moment.astimezone(dt.UTC) + self.interval
        assert self.cron is not None
        local = moment.astimezone(self.timezone).replace(microsecond=0)
        due = next(CronSim(self.cron, local))
        return due.astimezone(dt.UTC)


def parse_schedule(text: str, *, timezone: zoneinfo.ZoneInfo) -> Schedule:
    expression = " ".join(text.split())
    every = _EVERY.match(expression)
    if every:
        seconds = sum(int(n) * _UNIT_SECONDS[unit] for n, unit in _PART.findall(every.group(1)))
        if seconds <= 0:
            raise ScheduleError(f"{text!r} is an interval of no time")
        return Schedule(text, timezone, interval=dt.timedelta(seconds=seconds))
    if expression.startswith("@"):
        if expression not in NAMED:
            names = ", ".join([*NAMED, "@every 30s"])
            raise ScheduleError(f"{text!r} is not a schedule this knows ({names})")
        expression = NAMED[expression]
    fields = expression.split(" ")
    if len(fields) != 5:
        raise ScheduleError(
            f"{text!r} is not a cron expression: it has {len(fields)} fields, not 5 "
            "(minute hour day-of-month month day-of-week)"
        )
    try:
        next(CronSim(expression, dt.datetime.now(timezone)))
    except CronSimError as error:
        raise ScheduleError(f"{text!r} is not a cron expression: {str(error).lower()}") from None
    except StopIteration:
        raise ScheduleError(f"{text!r} is never due in the next 50 years") from None
    return Schedule(text, timezone, cron=expression)

"""Processes as Linux's /proc tells them: whose children they are, and the CPU they used."""

import os
from collections.abc import Iterable
from pathlib import Path

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (None if the process is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None  # it ended while we looked
    # The command name, in parentheses, may hold spaces and parentheses: split after the last.
    return stat.rsplit(")", 1)[1].split()


def _parents() -> dict[int, int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat_fields(int(entry.name))) is not None:
            parents[int(entry.name)] = int(fields[1])
    return parents


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid`."""
    return [child for child, parent in _parents().items() if parent == pid]


def tree(pid: int) -> list[int]:
    """`pid` and every process below it (a server's workers, their helpers)."""
    parents = _parents()
    found, frontier = [pid], [pid]
    while frontier:
        below = [child for child, parent in parents.items() if parent in frontier]
        found += below
        frontier = below
    return found


def cpu_seconds(pids: Iterable[int]) -> float:
    """User and system time of these processes and of their children that have ended and
    been waited for (a backend that served one connection and left counts with its parent)."""
    ticks = 0
    for pid in pids:
        if (fields := _stat_fields(pid)) is not None:
            # utime, stime, cutime, cstime: fields 14-17 of stat(5), counted from the state.
            ticks += sum(int(value) for value in fields[11:15])
    return ticks / TICKS_PER_SECOND


def tree_cpu_seconds(pid: int) -> float:
    return cpu_seconds(tree(pid))

"""HTTP load from wrk: a fixed POST body for a fixed time, and what wrk says of it."""

import dataclasses
import re
import resource
import shutil
import subprocess
from pathlib import Path

# wrk prints durations as 812.00us, 1.25ms, 2.01s or 1.02m.
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
_DURATION = r"([\d.]+)(us|ms|s|m)\b"


@dataclasses.dataclass(frozen=True)
class Load:
    """One wrk run: how many requests, how fast, how long each took."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int  # non-2xx answers plus connect, read, write and timeout errors
    wrk_cpu_seconds: float  # the load generator's own CPU, which shares the machine

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


def _milliseconds(value: str, unit: str) -> float:
    return float(value) * _UNIT_MS[unit]


def parse(output: str) -> tuple[int, float, float, float, int]:
    """Requests, seconds, p50 and p99 in ms, and errors, from `wrk --latency` output."""
    done = re.search(r"(\d+) requests in " + _DURATION, output)
    p50 = re.search(r"^\s*50%\s+" + _DURATION, output, re.MULTILINE)
    p99 = re.search(r"^\s*99%\s+" + _DURATION, output, re.MULTILINE)
    if not (done and p50 and p99):
        raise RuntimeError(f"wrk printed no requests and latencies:\n{output}")
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    if socket := re.search(r"connect (\d+), read (\d+), write (\d+), timeout (\d+)", output):
        errors += sum(int(n) for n in socket.groups())
    seconds = _milliseconds(done[2], done[3]) / 1000
    return int(done[1]), seconds, _milliseconds(*p50.groups()), _milliseconds(*p99.groups()), errors


def lua_script(path: Path, body: bytes) -> Path:
    """A wrk script that POSTs `body` as JSON to every connection's URL."""
    text = body.decode()
    level = "=" * next(n for n in range(1, 100) if f"]{'=' * n}]" not in text)
    path.write_text(
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = [{level}[{text}]{level}]\n"
    )
    return path


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise RuntimeError("wrk is not installed (apt-get install -y wrk)")
    return found


def run(url: str, script: Path, *, seconds: int, connections: int, threads: int) -> Load:
    """`seconds` of load at `url` from `connections` connections; the run stops by itself."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(
        [wrk_binary(), "--latency", f"-t{threads}", f"-c{connections}", f"-d{seconds}s",
         "--timeout", "30s", "-s", str(script), url],
        capture_output=True, text=True, check=True, timeout=seconds + 60,
    )  # fmt: skip
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    requests, took, p50, p99, errors = parse(result.stdout)
    return Load(requests, took, p50, p99, errors, cpu)

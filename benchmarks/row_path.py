"""How far a feed row travels to the database: the calls between our modules it takes.

Ingests one generated Lund/Skåne trial (and its product) into a scratch SQLite database and
records, while the ingest runner processes and writes the rows, every call from a function in
one of our modules to a function in another.  Prints the distinct hops (caller → callee
pairs), the modules they touch, and the deepest chain of our frames.  Not a timing: a
measure of how much code a newcomer must follow (`python benchmarks/row_path.py [--list]`).
"""

import argparse
import sys
import tempfile
from pathlib import Path
from types import FrameType
from typing import Any

sys.path.insert(0, str(Path(__file__).parents[1]))

from atmp_graph.ingest import ingest
from atmp_graph.ingest.batches import IngestRunner
from atmp_graph.model.database import make_engine, upgrade
from atmp_graph.plugins.builtin.lund_skane import LundSkaneFeed
from benchmarks.exports import write_trials_export

ROOT = Path(__file__).resolve().parents[1]
# Where each folder sits in the layers (api → schema → ingest → identity → model, ingest →
# plugins; leaf modules at the bottom): a call to a higher layer climbs back up.
LAYERS = {"api": 5, "schema": 4, "ingest": 3, "identity": 2, "plugins": 1, "model": 1}
NOT_OURS = {".venv", "benchmarks", "tests", "build"}


def _ours(frame: FrameType) -> str | None:
    """The file of the frame's function if it is the project's code (its links resolved)."""
    if frame.f_code.co_filename.startswith("<"):
        return None  # code SQLAlchemy or dataclasses generate
    path = Path(frame.f_code.co_filename).resolve()
    if path.is_relative_to(ROOT) and not NOT_OURS & set(path.relative_to(ROOT).parts):
        return str(path)
    return None


class PathTracer:
    def __init__(self) -> None:
        self.hops: set[tuple[str, str]] = set()
        self.modules: set[str] = set()
        self.depth = self.deepest = 0

    def __call__(self, frame: FrameType, event: str, _arg: Any) -> None:
        if (
            event not in {"call", "return"}
            or _ours(frame) is None
            or frame.f_code.co_name.startswith("<")
        ):
            return
        if event == "return":
            self.depth -= 1
            return
        self.depth += 1
        self.deepest = max(self.deepest, self.depth)
        callee = _name(frame)
        self.modules.add(callee.split(":")[0])
        caller = frame.f_back
        while caller is not None and caller.f_code.co_name.startswith("<"):
            caller = caller.f_back  # a comprehension speaks for its function
        if caller is not None and _ours(caller) is not None:
            source = _name(caller)
            if source.split(":")[0] != callee.split(":")[0]:
                self.hops.add((source, callee))


def _name(frame: FrameType) -> str:
    path = Path(frame.f_code.co_filename).resolve()
    module = path.stem if path.stem != "__init__" else path.parent.name
    return f"{path.parent.name}/{module}:{frame.f_code.co_name}"


def _layer(function: str) -> int:
    return LAYERS.get(function.split("/", maxsplit=1)[0], 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--list", action="store_true", help="print every hop")
    args = parser.parse_args()
    tracer = PathTracer()
    process, finish = IngestRunner.process, IngestRunner.finish

    def traced(method: Any) -> Any:
        def run(self: IngestRunner, *rest: Any) -> Any:
            if sys.getprofile() is tracer:
                return method(self, *rest)
            sys.setprofile(tracer)
            try:
                return method(self, *rest)
            finally:
                sys.setprofile(None)

        return run

    IngestRunner.process, IngestRunner.finish = traced(process), traced(finish)  # type: ignore[method-assign]
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{scratch}/row.db"
        upgrade(url)
        export = write_trials_export(Path(scratch) / "export", 1)
        report = ingest(make_engine(url), LundSkaneFeed(), export)
    assert report.created == 2, report
    modules = {(a.split(":")[0], b.split(":")[0]) for a, b in tracer.hops}
    both_ways = {tuple(sorted(pair)) for pair in modules if pair[::-1] in modules}
    climbs = [(a, b) for a, b in tracer.hops if _layer(b) > _layer(a)]
    print(
        f"one trial row and its product: {len(tracer.hops)} hops between "
        f"{len(tracer.modules)} modules, {tracer.deepest} frames of ours deep; "
        f"{len(climbs)} hops climb to a higher layer; "
        f"{len(both_ways)} pairs of modules call each other"
    )
    if args.list:
        for source, target in sorted(tracer.hops):
            mark = "  (climbs)" if (source, target) in climbs else ""
            print(f"  {source} -> {target}{mark}")
        for pair in sorted(both_ways):
            print(f"  both ways: {' <-> '.join(pair)}")


if __name__ == "__main__":
    main()

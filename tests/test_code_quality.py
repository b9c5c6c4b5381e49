"""ruff and mypy run as part of the suite, so `pytest` alone says whether a change is done."""

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
BIN = Path(sys.executable).parent


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check", "."],
        ["ruff", "format", "--check", "."],
        ["mypy"],
    ],
    ids=" ".join,
)
def test_code_is_clean(command: list[str]) -> None:
    result = subprocess.run(
        [str(BIN / command[0]), *command[1:]],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_postponed_annotations_in_schema() -> None:
    """Strawberry reads annotations at run time; postponed ones break lazy types."""
    offenders = [
        path.name
        for path in (ROOT / "schema").glob("*.py")
        if "from __future__ import annotations" in path.read_text(encoding="utf-8")
    ]
    assert offenders == []


# Which of our packages each folder may not import: api → schema → identity → model,
# api → ingest → identity → model, ingest → plugins (the contract, which loads no ORM).
# `src/atmp_graph` holds the public plugin API and the leaf modules everyone may use.
ARROWS = {
    "src/atmp_graph": ("api", "schema", "ingest", "identity", "model", "access"),
    "plugins": ("api", "schema", "ingest", "identity", "model", "access"),
    "model": ("api", "schema", "ingest", "identity", "plugins", "access"),
    "identity": ("api", "schema", "ingest", "plugins", "access"),
    "ingest": ("api", "schema", "access"),
    # Who may see what: keys and viewers, over the model; the schema and the API ask it.
    "access": ("api", "schema", "ingest", "identity", "plugins"),
    "schema": ("api", "ingest", "plugins"),
    "benchmarks": ("tests",),
}


def _our_python(folder: Path) -> Iterator[Path]:
    """The folder's Python files, without what npm installed (benchmarks/peer/node_modules)."""
    return (path for path in folder.rglob("*.py") if "node_modules" not in path.parts)


def _imported_modules(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


@pytest.mark.parametrize(("folder", "forbidden"), ARROWS.items(), ids=list(ARROWS))
def test_dependencies_point_one_way(folder: str, forbidden: tuple[str, ...]) -> None:
    names = {f"atmp_graph.{package}" for package in forbidden} | set(forbidden)
    offenders = sorted(
        f"{path.relative_to(ROOT)} imports {module}"
        for path in _our_python(ROOT / folder)
        for module in _imported_modules(path)
        if module in names or module.startswith(tuple(f"{name}." for name in names))
    )
    assert offenders == []


@pytest.mark.parametrize(
    "old_name", ["api", "schema", "plugins", "model", "ingest", "identity", "access"]
)
def test_code_is_imported_only_through_atmp_graph(old_name: str) -> None:
    """A file imported as `model.x` and as `atmp_graph.model.x` would be two modules."""
    offenders = sorted(
        f"{path.relative_to(ROOT)} imports {module}"
        for folder in ("api", "schema", "plugins", "model", "ingest", "identity", "access",
                       "benchmarks", "tests", "examples", "src")
        for path in _our_python(ROOT / folder)
        for module in _imported_modules(path)
        if module == old_name or module.startswith(f"{old_name}.")
    )  # fmt: skip
    assert offenders == []

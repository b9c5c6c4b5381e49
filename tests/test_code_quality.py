"""ruff and mypy run as part of the suite, so `pytest` alone says whether a change is done."""

import subprocess
import sys
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


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("model", ("plugins", "schema", "api")),
        ("plugins", ("schema", "api")),
        ("schema", ("plugins", "api")),
    ],
)
def test_dependencies_point_one_way(package: str, forbidden: tuple[str, ...]) -> None:
    offenders = [
        f"{path.relative_to(ROOT)}: {line.strip()}"
        for path in (ROOT / package).rglob("*.py")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith(tuple(f"{kw} {name}" for kw in ("import", "from") for name in forbidden))
    ]
    assert offenders == []

"""The README's quick start is exactly two lines, and CI runs the second one verbatim."""

import re
from pathlib import Path

ROOT = Path(__file__).parents[1]


def quick_start_lines() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Quick start\n.*?```(?:sh|bash)\n(.*?)```", readme, re.DOTALL)
    assert block, "README.md has no Quick start code block"
    return [line for line in block[1].splitlines() if line.strip()]


def test_quick_start_is_two_lines_serve_then_test() -> None:
    serve, test = quick_start_lines()
    assert serve.endswith("atmp-graph serve --demo")
    assert test.endswith("pytest")


def test_ci_runs_the_second_line_verbatim() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert quick_start_lines()[1] in ci

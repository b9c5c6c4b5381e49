"""The README tells a newcomer the truth: its curl example answers as shown, and every
setting is listed with its default."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from atmp_graph.api.settings import Settings
from tests.live_server import serving

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
COMMAND = str(Path(sys.executable).with_name("atmp-graph"))


def test_the_curl_example_gives_the_answer_shown(tmp_path: Path) -> None:
    found = re.search(r"With curl.*?```sh\n(curl .*?)\n```\n\n```json\n(.*?)\n```", README, re.S)
    assert found, "README.md has no curl example followed by its answer"
    command, answer = found[1], found[2]
    with serving(COMMAND, "--demo", cwd=tmp_path) as base:
        live = command.replace("http://127.0.0.1:8000", base)
        result = subprocess.run(
            ["sh", "-c", live], capture_output=True, text=True, timeout=30, check=True
        )
    assert json.loads(result.stdout) == json.loads(answer)


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_listed_with_its_default(name: str) -> None:
    variable = f"ATMP_{name.upper()}"
    row = next((line for line in README.splitlines() if line.startswith(f"| `{variable}` |")), None)
    assert row, f"README's settings table has no row for {variable}"
    default = Settings.model_fields[name].default
    shown = row.split("|")[2]
    if default is None:
        assert "unset" in shown
    else:
        assert str(default).lower() in shown.lower()

"""The wheel installs one import package, `atmp_graph`, beside PyPI's popular `schema`.

Built and installed into a fresh virtual environment, as a user would, then used there: the
plugin listing, and a GraphQL query over live HTTP.
"""

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import httpx2
import pytest

from tests.live_server import serving

ROOT = Path(__file__).parents[1]


def run(*command: str | Path, cwd: Path) -> str:
    result = subprocess.run(
        [str(part) for part in command], cwd=cwd, capture_output=True, text=True, timeout=600,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", out, ROOT, cwd=out)
    (built,) = out.glob("atmp_graph-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> Path:
    """A fresh virtual environment with the wheel, PyPI's `schema` package and mypy."""
    folder = tmp_path_factory.mktemp("venv")
    run(sys.executable, "-m", "venv", folder / "env", cwd=folder)
    run(folder / "env/bin/pip", "install", "-q", wheel, "schema", "mypy", cwd=folder)
    return folder / "env"


def test_the_wheel_installs_nothing_at_top_level_but_atmp_graph(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        tops = {name.split("/")[0] for name in archive.namelist()}
    assert {top for top in tops if not top.endswith(".dist-info")} == {"atmp_graph"}


def test_it_lives_beside_pypis_schema_package(venv: Path, tmp_path: Path) -> None:
    script = "import schema, atmp_graph.schema.schema; print(schema.Schema(int).validate(7))"
    assert run(venv / "bin/python", "-c", script, cwd=tmp_path).strip() == "7"


def test_the_installed_command_lists_the_plugins(venv: Path, tmp_path: Path) -> None:
    listing = json.loads(run(venv / "bin/atmp-graph", "plugins", "--json", cwd=tmp_path))
    assert [plugin["name"] for plugin in listing] == [
        "identifiers", "collaboration", "lund_skane", "lumc", "ctgov",
    ]  # fmt: skip
    assert all(plugin["errors"] == [] for plugin in listing)


def test_the_installed_server_answers_a_query(venv: Path, tmp_path: Path) -> None:
    with serving(str(venv / "bin/atmp-graph"), "--demo", cwd=tmp_path) as base:
        response = httpx2.post(
            f"{base}/graphql",
            json={"query": '{ trial(registryId: "NCT05635409") { acronym sponsor { name } } }'},
            timeout=10,
        )
    assert response.json() == {
        "data": {"trial": {"acronym": "STEM-PD", "sponsor": {"name": "Region Skåne"}}},
        "extensions": {
            "cost": {"requested": 4, "limit": 100_000},
            "readPath": {"compiled": ["trial"], "resolvers": []},
        },
    }


PLUGIN = """
from collections.abc import Iterator, Mapping

from pydantic import BaseModel

from atmp_graph import NoConfig, SourceRow, Stream, hookimpl

ATMP_GRAPH_CONTRACT = "1.0"


class Feed:
    name = "tiny"
    title = "A tiny feed"
    version = "0.1"
    institution_ror = None
    streams = (Stream(entity="product", primary_key="code"),)
    config_model = NoConfig

    def read(
        self, source: str, *, state: Mapping[str, str], config: BaseModel
    ) -> Iterator[SourceRow]:
        yield from ()

    def sample(self) -> str | None:
        return None


@hookimpl
def atmp_graph_feeds() -> list[Feed]:
    return [Feed()]
"""


def test_a_plugin_authors_mypy_sees_the_typed_contract(venv: Path, tmp_path: Path) -> None:
    (tmp_path / "tiny_plugin.py").write_text(PLUGIN, encoding="utf-8")
    (tmp_path / "wrong_plugin.py").write_text(
        PLUGIN.replace('primary_key="code"', "primary_key=7"), encoding="utf-8"
    )
    assert "Success" in run(venv / "bin/mypy", "--strict", "tiny_plugin.py", cwd=tmp_path)
    wrong = subprocess.run(
        [str(venv / "bin/mypy"), "--strict", "wrong_plugin.py"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert 'Argument "primary_key" to "Stream" has incompatible type "int"' in wrong.stdout

"""The example partner plugin installs like any third-party plugin, and its tutorial is whole."""

import ast
import inspect
import json
import os
import re
import subprocess
import sys
import textwrap
import tomllib
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from starlette.testclient import TestClient

from atmp_graph import CONTRACT_VERSION, SourceRow
from atmp_graph.api.app import create_app
from atmp_graph.api.demo import load_demo
from atmp_graph.api.settings import Settings
from atmp_graph.identity.precedence import DEFAULT_RULES
from atmp_graph.plugins import hookspecs
from atmp_graph.plugins.manager import build_plugin_host
from atmp_graph.plugins.validation import validate_row
from tests.conftest import GraphQLClient, admin_headers
from tests.plugins.installed import install_project

ROOT = Path(__file__).parents[1]
PLUGIN = ROOT / "examples" / "partner_plugin"
SAMPLE = PLUGIN / "atmp_nordvik" / "sample" / "export.xml"
TUTORIAL = (PLUGIN / "README.md").read_text(encoding="utf-8")
COMMAND = str(Path(sys.executable).with_name("atmp-graph"))
HOOKS = [
    function
    for name, function in inspect.getmembers(hookspecs, inspect.isfunction)
    if name.startswith("atmp_graph_")
]


def signature(hook: object) -> str:
    """`name(arg: type, ...) -> type`, as the tutorial writes it."""
    annotations = inspect.get_annotations(hook)  # type: ignore[arg-type]

    def text(annotation: object) -> str:
        return annotation if isinstance(annotation, str) else inspect.formatannotation(annotation)

    returns = text(annotations.pop("return"))
    arguments = ", ".join(f"{name}: {text(kind)}" for name, kind in annotations.items())
    return f"{hook.__name__}({arguments}) -> {returns}"  # type: ignore[attr-defined]


def test_there_are_hooks_to_document() -> None:
    assert len(HOOKS) == 5


@pytest.mark.parametrize("hook", HOOKS, ids=lambda hook: hook.__name__)
def test_tutorial_documents_every_hook(hook: object) -> None:
    assert signature(hook) in TUTORIAL


def code_blocks(language: str) -> list[str]:
    # A block inside a list item is indented with it.
    blocks = re.findall(rf"^( *)```{language}\n(.*?)^ *```", TUTORIAL, flags=re.DOTALL | re.M)
    return [textwrap.dedent(body) for _, body in blocks]


def test_tutorial_and_plugin_import_only_the_public_api() -> None:
    sources = [*code_blocks("python"), (PLUGIN / "atmp_nordvik" / "plugin.py").read_text()]
    ours = []
    for source in sources:
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("atmp_graph"):
                ours.append(node.module)
            elif isinstance(node, ast.Import):
                ours += [alias.name for alias in node.names if alias.name.startswith("atmp_graph")]
    # The conformance kit, in the tests only, is the one exception the tutorial explains.
    assert set(ours) == {"atmp_graph", "atmp_graph.plugins.conformance"}
    assert ours.count("atmp_graph.plugins.conformance") == 1


def test_tutorial_gives_the_contract_versions_as_they_are() -> None:
    # Read, not imported: this runs where the example plugin is not installed, too.
    plugin = (PLUGIN / "atmp_nordvik" / "plugin.py").read_text(encoding="utf-8")
    (declared,) = re.findall(r'^ATMP_GRAPH_CONTRACT = "[0-9.]+"$', plugin, flags=re.MULTILINE)
    assert declared in code_blocks("python")[0]
    assert f"`atmp_graph.CONTRACT_VERSION` (now `{CONTRACT_VERSION}`)" in TUTORIAL


def test_tutorial_quotes_the_precedence_orders_as_they_are() -> None:
    (quoted,) = [block for block in code_blocks("toml") if "[orders]" in block]
    rules = tomllib.loads(DEFAULT_RULES.read_text(encoding="utf-8"))
    assert tomllib.loads(quoted)["orders"] == rules["orders"]


def test_the_tutorials_validation_hook_sees_records_the_built_in_checks_reject() -> None:
    (example,) = [block for block in code_blocks("python") if "row: SourceRow" in block]
    plugin = types.ModuleType("tutorial_example")
    exec(compile(example, "README.md", "exec"), plugin.__dict__)
    host = build_plugin_host(load_entry_points=False)
    host.manager.register(plugin, name="tutorial_example")
    row = SourceRow(
        entity="clinical_trial",
        source_id="NV-T-009",
        data={"title": "A trial", "phase": "7"},
        labels={"phase": "phase"},
    )

    problems = validate_row(row, feed="nordvik", host=host)

    assert [problem.sentence() for problem in problems] == [  # type: ignore[union-attr]
        "phase '7' is not a trial phase (EARLY_PHASE1, PHASE1, PHASE1_PHASE2, PHASE2, "
        "PHASE2_PHASE3, PHASE3, PHASE4, NA)",
        "sponsor is required for Nordvik trials",
    ]
    assert host.failures == []


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The example plugin installed in a folder on sys.path, as pip lays it out."""
    folder = tmp_path / "site"
    folder.mkdir()
    install_project(folder, PLUGIN)
    monkeypatch.syspath_prepend(str(folder))
    before = set(sys.modules)
    yield folder
    for name in set(sys.modules) - before:
        del sys.modules[name]


def test_serve_demo_ingests_the_samples_of_installed_plugins_too(
    site: Path, engine: Engine
) -> None:
    reports = list(load_demo(engine, build_plugin_host()))

    assert [report.feed for report in reports] == [
        "collaboration", "lund_skane", "lumc", "ctgov", "nordvik",
    ]  # fmt: skip
    assert reports[-1].summary() == (
        "nordvik: read 5, created 3, updated 0, unchanged 0, quarantined 2"
    )


def run(*args: str, url: str, site: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ATMP_DATABASE_URL": url, "PYTHONPATH": str(site)}
    return subprocess.run(
        [COMMAND, *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def test_installed_plugin_is_listed_ingested_and_queryable(
    database_url: str, tmp_path: Path
) -> None:
    # Installed here, as pip lays it out, so this runs whether or not the example is installed
    # in the environment (where this copy, first on the path, stands in for it).
    install_project(tmp_path, PLUGIN)
    listing = json.loads(run("plugins", "--json", url=database_url, site=tmp_path).stdout)
    nordvik = next((p for p in listing if p["name"] == "nordvik"), None)
    assert nordvik is not None, listing
    assert (nordvik["version"], nordvik["feeds"], nordvik["errors"]) == ("0.1.0", ["nordvik"], [])

    run("db", "upgrade", url=database_url, site=tmp_path)
    # The plugin claims its export.
    ingested = run("ingest", str(SAMPLE), url=database_url, site=tmp_path)
    assert ingested.stdout.splitlines()[0] == (
        "nordvik: read 5, created 3, updated 0, unchanged 0, quarantined 2"
    )

    with TestClient(
        create_app(Settings(database_url=database_url)), headers=admin_headers(database_url)
    ) as client:
        data = GraphQLClient(client).execute(
            '{ trial(registryId: "EUCTR2024-000111-22-NO") { nctId eudractId phase '
            "sites { name country } products { name atmpClass } } }"
        )
    assert data["trial"] == {
        "nctId": "NCT09999901",
        "eudractId": "2024-000111-22",
        "phase": "PHASE1_PHASE2",
        "sites": [
            {"name": "Nordvik University Hospital", "country": "NO"},
            {"name": "Skåne University Hospital", "country": "SE"},
        ],
        "products": [{"name": "Nordvik islet cell therapy", "atmpClass": "SCTMP"}],
    }

"""The example partner plugin installs like any third-party plugin, and its tutorial is whole."""

import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from atmp_graph.api.app import create_app
from atmp_graph.api.settings import Settings
from atmp_graph.plugins import hookspecs
from tests.conftest import GraphQLClient

ROOT = Path(__file__).parents[1]
PLUGIN = ROOT / "examples" / "partner_plugin"
SAMPLE = PLUGIN / "atmp_nordvik" / "sample" / "export.xml"
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
    tutorial = (PLUGIN / "README.md").read_text(encoding="utf-8")
    assert signature(hook) in tutorial


def run(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ATMP_DATABASE_URL": url}
    return subprocess.run(
        [COMMAND, *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def test_installed_plugin_is_listed_ingested_and_queryable(database_url: str) -> None:
    listing = json.loads(run("plugins", "--json", url=database_url).stdout)
    nordvik = next((p for p in listing if p["name"] == "nordvik"), None)
    assert nordvik is not None, "install it: pip install -e examples/partner_plugin"
    assert (nordvik["version"], nordvik["feeds"], nordvik["errors"]) == ("0.1.0", ["nordvik"], [])

    run("db", "upgrade", url=database_url)
    ingested = run("ingest", str(SAMPLE), url=database_url)  # the plugin claims its export
    assert ingested.stdout.splitlines()[0] == (
        "nordvik: read 5, created 3, updated 0, unchanged 0, quarantined 2"
    )

    with TestClient(create_app(Settings(database_url=database_url))) as client:
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

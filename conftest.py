"""Before any test imports ATMP Graph: is the strict editable install's link tree current?

The editable install links each file into build/ once; a module added since is missing there,
and the tests would fail with a puzzling ImportError.  Say what to run instead.
"""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).parent
FOLDERS = {"api": "api", "schema": "schema", "plugins": "plugins", "ingest": "ingest",
           "jobs": "jobs", "identity": "identity", "model": "model",
           "": "src/atmp_graph"}  # fmt: skip


def _missing_from_link_tree() -> list[str]:
    spec = importlib.util.find_spec("atmp_graph")
    if spec is None or spec.origin is None or "__editable__" not in spec.origin:
        return []  # a wheel install, or none: nothing to compare
    installed = Path(spec.origin).parent
    return sorted(
        str(source.relative_to(ROOT))
        for package, folder in FOLDERS.items()
        for source in (ROOT / folder).rglob("*.py")
        if not (installed / package / source.relative_to(ROOT / folder)).exists()
    )


if missing := _missing_from_link_tree():
    raise pytest.UsageError(
        f"{', '.join(missing)} not in the editable install yet: run "
        "`.venv/bin/pip install --config-settings editable_mode=strict -e '.[test]'` again"
    )

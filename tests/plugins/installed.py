"""Install throwaway plugin distributions into a folder on sys.path, as pip would lay them out.

importlib.metadata finds `*.dist-info` folders on sys.path, so a plugin installed this way is
discovered through the real `atmp_graph` entry-point group, by the real loading code.
"""

import shutil
import textwrap
import tomllib
from pathlib import Path


def install_plugin(folder: Path, name: str, source: str, *, version: str = "1.0") -> None:
    """Install module `{name}` (with `source`) as distribution `{name}` with entry point `name`."""
    (folder / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    info = folder / f"{name}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(f"[atmp_graph]\n{name} = {name}\n", encoding="utf-8")


def install_project(folder: Path, project: Path) -> None:
    """Install the package(s) of the project at `project` (a folder with a pyproject.toml
    and its packages in it) with the entry points its pyproject.toml declares."""
    metadata = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    name, version = metadata["name"], metadata["version"]
    for package in project.glob("*/__init__.py"):
        shutil.copytree(package.parent, folder / package.parent.name)
    info = folder / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", encoding="utf-8"
    )
    groups = metadata.get("entry-points", {})
    (info / "entry_points.txt").write_text(
        "".join(
            f"[{group}]\n" + "".join(f"{key} = {value}\n" for key, value in points.items())
            for group, points in groups.items()
        ),
        encoding="utf-8",
    )

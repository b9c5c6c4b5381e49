"""Install throwaway plugin distributions into a folder on sys.path, as pip would lay them out.

importlib.metadata finds `*.dist-info` folders on sys.path, so a plugin installed this way is
discovered through the real `atmp_graph` entry-point group, by the real loading code.
"""

import textwrap
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

"""tests/node's npm packages, installed exactly as its one lockfile pins them, once for every
test that runs a Node client (the GraphQL-over-HTTP audit, the graphql-ws subscriber)."""

import fcntl
import json
import shutil
import subprocess
from pathlib import Path

__all__ = ["NODE_DIR", "install_node_packages"]

NODE_DIR = Path(__file__).parent / "node"


def install_node_packages() -> Path:
    """tests/node with its lockfile's packages in node_modules (`npm ci` when they are not all
    there at their pinned versions); test processes that ask at once take turns."""
    npm = shutil.which("npm")
    assert npm, "the Node clients need Node.js 20 and npm on PATH"
    with (NODE_DIR / ".npm-ci.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _versions(NODE_DIR / "node_modules" / ".package-lock.json") != _versions(
            NODE_DIR / "package-lock.json"
        ):
            subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True, timeout=300
            )
    return NODE_DIR


def _versions(lockfile: Path) -> dict[str, str]:
    """Each package a lockfile names (npm's hidden one in node_modules: those installed), and
    its version."""
    if not lockfile.is_file():
        return {}
    packages = json.loads(lockfile.read_text(encoding="utf-8"))["packages"]
    return {path: entry["version"] for path, entry in packages.items() if path}

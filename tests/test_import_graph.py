"""No import circles between our modules: each module can be read knowing only what it imports.

Type references are exempt (imports under `if TYPE_CHECKING:`, and Strawberry's lazy types
and the ORM's relationship targets, which are strings).
"""

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).parents[1]
FOLDERS = {
    "atmp_graph": ROOT / "src" / "atmp_graph",
    **{
        f"atmp_graph.{name}": ROOT / name
        for name in ("api", "schema", "plugins", "ingest", "jobs", "identity", "model")
    },
}


def _modules() -> dict[str, Path]:
    modules = {}
    for package, folder in FOLDERS.items():
        for path in folder.rglob("*.py"):
            parts = path.relative_to(folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join((package, *parts))] = path
    return modules


def _imports(path: Path, known: set[str]) -> Iterator[str]:
    def visit(statements: list[ast.stmt]) -> Iterator[str]:
        for statement in statements:
            if isinstance(statement, ast.If) and "TYPE_CHECKING" in ast.unparse(statement.test):
                continue
            if isinstance(statement, ast.Import):
                yield from (alias.name for alias in statement.names)
            elif isinstance(statement, ast.ImportFrom) and statement.module:
                # `from package import submodule` needs the submodule, not the package's names.
                names = {f"{statement.module}.{alias.name}" for alias in statement.names}
                yield from names & known
                if not names <= known:
                    yield statement.module
            for field in ("body", "orelse", "finalbody", "handlers"):
                yield from visit(
                    [s for s in getattr(statement, field, []) if isinstance(s, ast.stmt)]
                )

    yield from (name for name in visit(ast.parse(path.read_text("utf-8")).body) if name in known)


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph[node]:
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while (member := stack.pop()) != node:
                group.append(member)
            if group:
                circles.append(sorted([node, *group]))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return circles


def test_no_module_imports_itself_round_a_circle() -> None:
    modules = _modules()
    graph = {name: set(_imports(path, set(modules))) - {name} for name, path in modules.items()}
    assert len(graph) > 80
    assert _circles(graph) == []


def test_a_circle_would_be_found() -> None:
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]

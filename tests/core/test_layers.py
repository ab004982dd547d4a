"""The floors of the package hold: no import cycle (function-level imports included) and the
import-linter contracts of pyproject.toml pass (docs/architecture.md draws the floors)."""

from __future__ import annotations

import ast
import importlib.util
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "xlalens"


def module_names(package: Path = PACKAGE) -> dict[str, Path]:
    """Every module of the package by dotted name (a package is named by its __init__)."""
    out: dict[str, Path] = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The longest prefix of `name` that is one of our modules (None outside the package)."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """Module -> the package's modules it imports, read from the source with `ast`.

    Every import that runs counts, wherever it sits (module level, inside functions):
    183 of 431 internal imports sat inside functions when this test was
    written, most of them there to dodge a cycle, and a cycle dodged is still a cycle
    between the floors. Imports under `if TYPE_CHECKING:` never run and only name a
    type for annotations, so they do not count (import-linter is told the same in
    pyproject.toml). `from x import y` counts as importing `x.y` when that is a module.
    Importing `a.b.c` does not count as importing the packages `a` and `a.b` (their
    __init__ only re-export), which is how import-linter counts too.
    """
    modules = module_names(package)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in _runtime_nodes(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    # relative: strip `level` parts off this module's package
                    base = name.split(".") if is_package else name.split(".")[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    stem = ".".join([*base, node.module] if node.module else base)
                else:
                    stem = node.module or ""
                for alias in node.names:
                    sub = f"{stem}.{alias.name}"
                    targets.append(sub if sub in modules else stem)
            for target in targets:
                resolved = _resolve(target, modules)
                if resolved is not None and resolved != name:
                    graph[name].add(resolved)
    return graph


def _runtime_nodes(tree: ast.AST):
    """Every node of `tree` except what sits under `if TYPE_CHECKING:`."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def _is_type_checking(test: ast.expr) -> bool:
    """`TYPE_CHECKING` or `typing.TYPE_CHECKING`."""
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _a_path(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """One concrete loop through a component (a -> b -> ... -> a), to name in the failure."""
    members = set(component)
    start = component[0]
    # breadth-first back to start inside the component
    prev: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for node in frontier:
            for child in sorted(graph[node] & members):
                if child == start:
                    loop = [start]
                    while node != start:
                        loop.append(node)
                        node = prev[node]
                    return [start, *reversed(loop[1:]), start]
                if child not in prev:
                    prev[child] = node
                    nxt.append(child)
        frontier = nxt
    return component


def test_import_graph_sees_function_level_imports(tmp_path):
    """The graph builder counts imports inside functions and resolves relative and `from pkg import mod`."""
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("from pkg.sub.b import f\n")
    (pkg / "a.py").write_text("def g():\n    from pkg.sub import b\n    return b\n")
    (pkg / "sub" / "b.py").write_text("def f():\n    from .. import a\n    return a\n")
    (pkg / "c.py").write_text(
        "import pkg.sub.b\nfrom pkg.sub import f\nfrom typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from pkg import a\n"
    )
    graph = import_graph(pkg)
    assert graph["pkg.a"] == {"pkg.sub.b"}
    assert graph["pkg.sub.b"] == {"pkg.a"}
    assert graph["pkg.c"] == {"pkg.sub.b", "pkg.sub"}
    assert graph["pkg.sub"] == {"pkg.sub.b"}
    assert cycles(graph) == [["pkg.a", "pkg.sub.b"]]


def test_no_import_cycles():
    """No module of xlalens is in an import cycle, function-level imports included."""
    graph = import_graph()
    found = cycles(graph)
    message = "\n".join(
        f"cycle of {len(c)} modules: {' -> '.join(_a_path(graph, c))}\n  all: {', '.join(c)}"
        for c in found
    )
    assert not found, (
        f"{len(found)} import cycle(s); move the shared piece down a floor "
        f"(docs/architecture.md):\n{message}"
    )


def test_import_linter_contracts():
    """`lint-imports` keeps every contract of [tool.importlinter] in pyproject.toml."""
    if importlib.util.find_spec("importlinter") is None:
        pytest.skip(
            "import-linter is not installed: `pip install -e '.[dev]'` (make setup) adds it"
        )
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    cmd = [exe] if exe else [sys.executable, "-m", "importlinter.cli"]
    out = subprocess.run(
        [*cmd, "--no-cache"], cwd=ROOT, capture_output=True, text=True, env=_env_with_root()
    )
    assert out.returncode == 0, out.stdout[-6000:] + out.stderr[-2000:]


def _env_with_root() -> dict[str, str]:
    """This tree first on the path, so the contracts check this checkout's xlalens."""
    import os

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def main() -> None:
    """`python tests/core/test_layers.py`: print the cycles and the import edges per floor."""
    graph = import_graph()
    found = cycles(graph)
    print(f"{sum(len(v) for v in graph.values())} internal import edges, {len(found)} cycles")
    for c in found:
        print(f"  {len(c)}: {' -> '.join(_a_path(graph, c))}")
    pkg_edges: dict[str, set[str]] = defaultdict(set)
    for src, dsts in graph.items():
        a = ".".join(src.split(".")[:2])
        for dst in dsts:
            b = ".".join(dst.split(".")[:2])
            if a != b:
                pkg_edges[a].add(b)
    for a in sorted(pkg_edges):
        print(f"  {a} -> {', '.join(sorted(pkg_edges[a]))}")


if __name__ == "__main__":
    main()

"""The package's imports run one way, stage by stage, counting function-level imports too.

    python tests/test_layout.py [PACKAGE_DIR]    # prints the import graph's cycles (strongly connected components)

The only upward edges allowed are the ``Model`` facade methods (``run``, ``calibrate``,
``sensitivity``, ``sweep``), each a documented lazy import in ``spec/model.py``.
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "simulate"
# Stages in dataflow order; a module may import its own stage or an earlier one.
STAGES = ("_version", "errors", "units", "user_cache", "spec", "engine", "results", "analysis", "plots", "report", "cli")
FACADE = {("simulate.spec.model", "simulate.results.run"), ("simulate.spec.model", "simulate.analysis.calibration"),
          ("simulate.spec.model", "simulate.analysis.sensitivity"), ("simulate.spec.model", "simulate.analysis.sweep")}


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def import_graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    """Module -> the package modules it imports anywhere in its file (top level or in functions)."""
    modules = {module_name(p, root): p for p in root.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                # "from pkg import sub" imports the module pkg.sub; "from mod import name" imports mod
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            else:
                continue
            edges |= {t for t in targets if t in modules and t != name}
        graph[name] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def stage(module: str) -> int:
    parts = module.split(".")
    if len(parts) == 1 or parts[1] == "__main__":   # the package's own __init__ and ``python -m``: the top
        return len(STAGES)
    return STAGES.index(parts[1])


def without_facade(graph):
    return {a: {b for b in edges if (a, b) not in FACADE} for a, edges in graph.items()}


def test_the_import_graph_has_no_cycle():
    assert cycles(without_facade(import_graph())) == []


def test_every_import_points_to_its_own_stage_or_an_earlier_one():
    upward = [(a, b) for a, edges in without_facade(import_graph()).items() for b in edges if stage(b) > stage(a)]
    assert upward == []


def test_the_facade_edges_exist_and_are_the_only_ones_allowed():
    graph = import_graph()
    assert FACADE <= {(a, b) for a, edges in graph.items() for b in edges}


def test_the_cycle_finder_finds_a_planted_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]


def test_reading_a_model_file_loads_no_numba_xarray_or_matplotlib():
    import subprocess

    code = ("import sys, simulate; simulate.load('priors/chatgpt-2023-01.toml'); "
            "print(sorted(m for m in ('numba', 'xarray', 'matplotlib') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PACKAGE.parent, check=True)
    assert done.stdout.strip() == "[]"


if __name__ == "__main__":
    root = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else PACKAGE
    graph = import_graph(root)
    print(f"{len(graph)} modules, {sum(len(e) for e in graph.values())} import edges under {root}")
    for component in cycles(graph):
        print(f"cycle of {len(component)}: {', '.join(m.removeprefix('simulate.') for m in component)}")
    for component in cycles(without_facade(graph)):
        print(f"cycle without the Model facade, {len(component)} modules: "
              f"{', '.join(m.removeprefix('simulate.') for m in component)}")

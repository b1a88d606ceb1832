"""The UI's modules import each other one way: the import graph of marketing_app (read with ast, nothing is
imported) has no cycle, and every import sits at the top of its file (none inside a function or a class)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "marketing_app"


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        out[name.removesuffix(".__init__")] = path
    return out


def _imported(node: ast.Import | ast.ImportFrom, known: set[str]) -> set[str]:
    """The package's modules an import statement names (`from a import b` may name module a.b)."""
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        base = node.module or ""
        names = [base] + [f"{base}.{a.name}" for a in node.names]
    return {n for n in names if n in known}


def import_graph() -> tuple[dict[str, set[str]], list[str]]:
    """module → the package's modules it imports; and every import found below the top level."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    nested: list[str] = []
    for name, path in modules.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        top = {id(n) for n in tree.body}
        graph[name] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                graph[name] |= _imported(node, set(modules)) - {name}
                if id(node) not in top:
                    nested.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
    return graph, nested


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), plus modules importing themselves."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
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
            if len(component) > 1 or v in graph.get(v, ()):
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_finder_sees_a_cycle_and_a_nested_import() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
    tree = ast.parse("import os\n\ndef f():\n    import sys\n")
    assert [type(n).__name__ for n in ast.walk(tree) if isinstance(n, ast.Import) and n not in tree.body] == [
        "Import"]


def test_marketing_app_has_no_import_cycle() -> None:
    graph, _ = import_graph()
    assert "marketing_app.states.canvas" in graph and graph["marketing_app.states.canvas"]
    assert cycles(graph) == []


def test_every_import_is_at_the_top_of_its_file() -> None:
    _, nested = import_graph()
    assert nested == []

"""The engine's layers point one way (docs/ARCHITECTURE.md, "Layers"): read from the source with `ast`, no import is
made inside a function (but the few listed below, each with its reason in a comment), the modules' import graph
has no cycle, a layer never imports a higher one, and the engine never imports the UI."""

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine.settings import PROJECT_ROOT

ENGINE = PROJECT_ROOT / "engine"

#: lowest first; a module belongs to the layer of its longest listed prefix ("engine" itself only to core), and
#: every module must have one
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("core", ("engine", "engine.settings", "engine.clock", "engine.errors", "engine.status", "engine.models",
              "engine.db", "engine.compiled", "engine.permissions", "engine.outbound", "engine.receipt_token")),
    ("plugins", ("engine.components", "engine.channels", "engine.flow", "engine.secrets")),
    ("shared", ("engine.shared",)),
    ("runtime", ("engine.runtime",)),
    ("services", ("engine.services",)),
    ("processes", ("engine.actors", "engine.crowd_actor", "engine.scheduler", "engine.api", "engine.simulator",
                   "engine.migrate", "engine.admin", "engine.demo", "engine.demo_customers", "engine.demo_live",
                   "engine.demo_traffic", "engine.demo_gate")),
]

#: (module, imported module) made inside a function on purpose; each says why in a comment next to it
LAZY: set[tuple[str, str]] = {
    # importing engine.actors declares the Dramatiq actors on the process's broker and tunes its GC for a
    # worker: only a scheduler / API process that really hands work to the workers does it
    ("engine.scheduler", "engine.actors"),
    ("engine.scheduler", "engine.crowd_actor"),
    ("engine.api.app", "engine.actors"),
}

UI = ("reflex", "marketing_app", "rxconfig")


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # the imported name, resolved to a module where it is one
    line: int
    lazy: bool  # inside a function or class body


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PROJECT_ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _sources() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(ENGINE.rglob("*.py"))}


def _imports(module: str, path: Path, modules: set[str]) -> list[Import]:
    tree = ast.parse(path.read_text(), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    nested: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef):
            nested.update(id(sub) for sub in ast.walk(node) if sub is not node)
    found: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                base = ".".join(up + ([node.module] if node.module else []))
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
        else:
            continue
        found += [Import(module, name, node.lineno, id(node) in nested) for name in names]
    return found


def _graph() -> tuple[dict[str, set[str]], list[Import]]:
    """module -> engine modules it imports (and the packages whose __init__ that runs), every import listed."""
    sources = _sources()
    modules = set(sources)
    edges: dict[str, set[str]] = {m: set() for m in modules}
    every: list[Import] = []
    for module, path in sources.items():
        for imp in _imports(module, path, modules):
            every.append(imp)
            parts = imp.target.split(".")
            for i in range(1, len(parts) + 1):
                target = ".".join(parts[:i])
                # a module's own packages are already being imported when it runs: not an edge
                if target in modules and target != module and not module.startswith(target + "."):
                    edges[module].add(target)
    return edges, every


def _layer(module: str) -> int:
    best = max(((len(prefix), rank) for rank, (_, prefixes) in enumerate(LAYERS) for prefix in prefixes
                if module == prefix or (prefix != "engine" and module.startswith(prefix + "."))), default=None)
    assert best is not None, f"{module} has no layer: add it to LAYERS in {__file__}"
    return best[1]


def test_every_import_sits_at_the_top_of_its_file_but_the_listed_ones() -> None:
    _, every = _graph()
    lazy = {(i.module, i.target): i for i in every if i.lazy}
    assert set(lazy) - LAZY == set(), "imports inside a function: move them to the top (or to a lower layer)"
    assert LAZY - set(lazy) == set(), "listed as lazy but not imported in a function any more: drop them from LAZY"
    for (module, _target), imp in lazy.items():
        lines = _sources()[module].read_text().splitlines()
        around = " ".join(lines[max(0, imp.line - 4):imp.line])
        assert "lazily on purpose" in around, f"{module}:{imp.line}: say why this import is made in a function"


def test_no_two_engine_modules_import_each_other() -> None:
    edges, _ = _graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for target in sorted(edges[module]):
            if state.get(target) == 1:
                cycles.append(path[path.index(target):] + [target])
            elif target not in state:
                visit(target)
        path.pop()
        state[module] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module)
    assert cycles == [], "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_lower_layers_never_import_higher_ones() -> None:
    edges, _ = _graph()
    upward = [f"{m} ({LAYERS[_layer(m)][0]}) imports {t} ({LAYERS[_layer(t)][0]})"
              for m, targets in sorted(edges.items()) for t in sorted(targets) if _layer(t) > _layer(m)]
    assert upward == []


def test_the_engine_never_imports_the_ui() -> None:
    _, every = _graph()
    assert [f"{i.module}:{i.line} {i.target}" for i in every if i.target.split(".")[0] in UI] == []


def test_the_checks_see_what_they_forbid(tmp_path: Path) -> None:
    """The graph and the lazy-import detection work: the known edges and exceptions are found, and a UI import in
    a function of a written module is seen as both."""
    source = tmp_path / "mod.py"
    source.write_text("import os\n\n\ndef f():\n    import reflex as rx\n    from .sibling import x\n")
    assert [(i.target, i.lazy) for i in _imports("engine.pkg.mod", source, {"engine.pkg.sibling"})] == [
        ("os", False), ("reflex", True), ("engine.pkg.sibling", True)]
    edges, every = _graph()
    assert "engine.runtime.store" in edges["engine.services.stop_watch"]
    assert "engine.shared.audiences" in edges["engine.runtime.rounds"]
    assert "engine.api.keys" in edges["engine.demo_customers"]
    assert {(i.module, i.target) for i in every if i.lazy} == LAZY
    assert _layer("engine.runtime.rounds") < _layer("engine.services.records") and _layer("engine") == 0
    with pytest.raises(AssertionError, match="has no layer"):
        _layer("engine.something_new")

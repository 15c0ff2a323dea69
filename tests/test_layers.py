"""The map of docs/DESIGN.md, enforced: every import between our packages follows the
"may import" table, and no two modules (nor packages) import each other, directly or
round a loop. Imports inside functions count too: a late import is still an arrow."""

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Each package (or top-level module) and what of ours it may import, bottom to top.
MAY_IMPORT: dict[str, set[str]] = {
    "bot": set(),
    "store": set(),
    "channel": set(),
    "config": set(),
    "usecases": {"bot", "store", "channel"},
    "scheduler": {"usecases", "bot", "store", "channel"},
    "web": {"usecases", "bot", "store", "channel", "config"},
    "webhook": {"web", "usecases", "bot", "store", "channel", "config"},
    "rasa_actions": {"usecases", "bot", "store", "channel", "config"},
    "turnero": {
        "webhook",
        "web",
        "rasa_actions",
        "scheduler",
        "usecases",
        "bot",
        "store",
        "channel",
        "config",
    },
}
# Arrows that still point the wrong way, each with the change that removes it.
NOT_YET: set[tuple[str, str]] = set()


def _module_files() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for name in MAY_IMPORT:
        single = ROOT / f"{name}.py"
        paths = [single] if single.exists() else sorted((ROOT / name).rglob("*.py"))
        for path in paths:
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = _module_files()


def _imported(module: str, path: Path) -> Iterator[str]:
    """The modules of ours that `module` imports (a name imported from a package is the
    submodule when there is one)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, *([node.module] if node.module else [])])
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                for alias in node.names
            ]
        else:
            continue
        yield from (t for t in targets if t.split(".")[0] in MAY_IMPORT)


GRAPH = {module: set(_imported(module, path)) - {module} for module, path in MODULES.items()}


def _package(module: str) -> str:
    return module.split(".")[0]


def test_every_package_imports_only_what_the_design_allows() -> None:
    wrong = sorted(
        f"{module} -> {target}"
        for module, targets in GRAPH.items()
        for target in targets
        if _package(target) != _package(module)
        and _package(target) not in MAY_IMPORT[_package(module)]
        and (module, target) not in NOT_YET
    )
    assert wrong == []


def test_the_known_exceptions_still_exist() -> None:
    """An exception that no longer happens is taken off the list."""
    gone = sorted(f"{a} -> {b}" for a, b in NOT_YET if b not in GRAPH.get(a, set()))
    assert gone == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
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

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_modules_import_each_other() -> None:
    # a package's __init__ that only documents it is no node of a loop
    assert _cycles(GRAPH) == []


def test_no_packages_import_each_other() -> None:
    packages: dict[str, set[str]] = {}
    for module, targets in GRAPH.items():
        packages.setdefault(_package(module), set()).update(
            _package(t) for t in targets if _package(t) != _package(module)
        )
    assert _cycles(packages) == []


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"a": {"b"}, "b": {"a"}}, [["a", "b"]]),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, [["a", "b", "c"]]),
        ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
    ],
)
def test_the_cycle_finder_finds_loops(graph: dict[str, set[str]], expected: list) -> None:
    assert _cycles(graph) == expected


def test_the_walk_sees_late_and_relative_imports(tmp_path: Path) -> None:
    """The walk reads an import inside a function and a relative one as arrows."""
    source = tmp_path / "web" / "page.py"
    source.parent.mkdir()
    source.write_text("def f():\n    from scheduler import worker\nfrom . import forms\n")
    (source.parent / "__init__.py").write_text("")
    found = set(_imported("web.page", source))
    assert "scheduler.worker" in found
    assert "web" in found or "web.forms" in found

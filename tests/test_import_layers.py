"""The house rules of the package layout, read from the source: arrows point down the data path, never in a circle,
and never from the product into training or into the app."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("lipnet_core", "lipnet_training")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every module imported anywhere in the file (top level or inside a function)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def import_graph() -> dict[str, set[str]]:
    modules = {module_name(path): path for package in PACKAGES for path in (ROOT / package).rglob("*.py")}
    return {name: {other for other in imports_of(path) if other in modules and other != name}
            for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
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

    for node in graph:
        if node not in index:
            visit(node)
    return found


def layers(graph: dict[str, set[str]]) -> list[list[str]]:
    """Modules by floor: floor 0 imports none of the packages' modules, floor n only modules below it."""
    floor = {}
    while len(floor) < len(graph):
        for name, imported in graph.items():
            if name not in floor and all(other in floor for other in imported):
                floor[name] = 1 + max((floor[other] for other in imported), default=-1)
    return [sorted(name for name, level in floor.items() if level == n) for n in range(max(floor.values()) + 1)]


def test_no_import_circles():
    assert cycles(import_graph()) == []


def test_the_product_never_imports_training_the_app_or_streamlit():
    for path in (ROOT / "lipnet_core").rglob("*.py"):
        forbidden = {name for name in imports_of(path) if name.split(".")[0] in ("lipnet_training", "widgets",
                                                                                 "streamlit", "app_pages")}
        assert not forbidden, f"{path.relative_to(ROOT)} imports {sorted(forbidden)}"


def test_every_module_has_a_floor():
    graph = import_graph()
    assert sum(len(floor) for floor in layers(graph)) == len(graph)
    assert "lipnet_core.errors" in layers(graph)[0]

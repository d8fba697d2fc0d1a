"""The house keeps its plan: every import in `minirl/` follows the map in CONTRIBUTING.md.

The map ("The map of the house") gives each module a floor; a module imports only from its own floor
and the floors above it (lower numbers), never from below, and the import graph has no circle. Both
top-level imports and imports inside functions count: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "minirl"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(importer: str, is_package: bool, node: ast.ImportFrom) -> list[str]:
    """The minirl modules a `from ... import ...` names (a package's submodule when the name is one)."""
    if node.level:
        base = importer.split(".") if is_package else importer.split(".")[:-1]
        base = base[:len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    if target.split(".")[0] != "minirl":
        return []
    found = []
    for alias in node.names:
        candidate = f"{target}.{alias.name}"
        as_path = REPO / candidate.replace(".", "/")
        if as_path.with_suffix(".py").exists() or as_path.is_dir():
            found.append(candidate)
    return found or [target]


def import_graph() -> dict[str, set[str]]:
    """module -> the minirl modules it imports (anywhere in its source)."""
    graph = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = module_name(path)
        edges = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom):
                edges.update(_resolve(name, path.name == "__init__.py", node))
            elif isinstance(node, ast.Import):
                edges.update(a.name for a in node.names if a.name.split(".")[0] == "minirl")
        graph[name] = edges - {name}
    return graph


def third_party(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
    return names


def floors_from_contributing() -> dict[str, int]:
    """`minirl/x.py` or `minirl/x/` -> floor number, from the map's table."""
    text = (REPO / "CONTRIBUTING.md").read_text()
    section = text.split("## The map of the house", 1)[1].split("\n## ", 1)[0]
    floors = {}
    for line in section.splitlines():
        m = re.match(r"\|\s*(\d+) [^|]*\|([^|]*)\|", line)
        if m:
            for where in re.findall(r"`(minirl/[^`]*)`", m.group(2)):
                floors[where] = int(m.group(1))
    return floors


FLOORS = floors_from_contributing()


def floor_of(module: str) -> int:
    path = module.replace(".", "/")
    for where, floor in FLOORS.items():
        if where.endswith("/") and (path + "/").startswith(where):
            return floor
        if where == path + ".py":
            return floor
    raise AssertionError(f"{module} is not on the map of the house in CONTRIBUTING.md: add it to its floor")


def test_the_map_is_read_and_covers_every_module():
    assert len(set(FLOORS.values())) == 7, FLOORS
    for module in import_graph():
        if module != "minirl":
            floor_of(module)                   # raises for a module the map does not place


def test_no_import_runs_down_the_house():
    graph = import_graph()
    wrong = []
    for module, targets in graph.items():
        if module == "minirl":
            continue
        for target in targets:
            if target == "minirl":             # `from .. import __version__`: the package itself
                continue
            if floor_of(target) > floor_of(module):
                wrong.append(f"{module} (floor {floor_of(module)}) imports {target} (floor {floor_of(target)})")
            if module.startswith("minirl.plotting") and target.startswith("minirl.commands"):
                wrong.append(f"{module} imports {target}: a figure module may not depend on a command")
    assert not wrong, "imports against the map in CONTRIBUTING.md:\n" + "\n".join(sorted(wrong))


def test_the_package_root_imports_only_threads_and_envs():
    assert import_graph()["minirl"] <= {"minirl.threads", "minirl.envs"}


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in graph:
                continue
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
                out.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_no_circles():
    graph = {m: {t for t in ts if t != "minirl"} for m, ts in import_graph().items()}
    assert not _circles(graph), f"import circles: {_circles(graph)}"


def test_the_circle_finder_finds_a_circle():
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize("library,lowest", [("gymnasium", 2), ("matplotlib", 7)])
def test_heavy_libraries_stay_on_their_floors(library, lowest):
    wrong = [module_name(p) for p in PACKAGE.rglob("*.py")
             if library in third_party(p) and module_name(p) != "minirl" and floor_of(module_name(p)) < lowest]
    assert not wrong, f"{library} imported below floor {lowest}: {wrong}"

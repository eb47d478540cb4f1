"""The rooms of the house and which may import which (docs/architecture.md).

The project's import graph is read from the sources with ``ast`` (nothing is
imported), counting every import: at module level and inside functions. A
function-local import still ties two modules together; it only hides the tie
from the interpreter at start-up, so the layer rules count it too. Only the
cycle check is limited to module-level imports, where a cycle breaks
start-up; a task importing its service inside its body (the Celery rule in
docs/architecture.md) is the one sanctioned way round that.

Each rule is checked by a function that returns what breaks it, and each such
function is shown to find a planted offence, so none of them can pass by
finding nothing at all.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("liqsite", "markets", "grids", "accuracy", "heatmaps", "alerts", "liqengine", "plugins")
# The layers from the bottom up: an app may import the apps below it, never those above.
APP_ORDER = ("markets", "grids", "accuracy", "heatmaps", "alerts")
# The presentation side of the heatmaps app: nothing outside it may import these.
HEATMAP_PAGES = ("heatmaps.pages", "heatmaps.charts", "heatmaps.views", "heatmaps.urls")


@dataclass(frozen=True)
class Edge:
    source: str  # the importing module
    target: str  # the imported module (or package)
    line: int
    local: bool  # inside a function or class body, not at module level

    def __str__(self) -> str:
        where = "function-level" if self.local else "module-level"
        return f"{self.source} → {self.target} (line {self.line}, {where})"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue  # state-only migrations name apps by label, not by import
            modules[module_name(path)] = path
    return modules


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


@functools.cache
def imports_of(module: str, source: str, *, is_package: bool = False) -> tuple[Edge, ...]:
    """Every import in ``source``: what it names, where, and whether it runs at module level."""
    edges: list[Edge] = []

    def visit(node: ast.AST, local: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = local or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.If) and _is_type_checking(child):
                inner = True  # not run at start-up, but still a dependency
            if isinstance(child, ast.Import):
                edges.extend(Edge(module, alias.name, child.lineno, local) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = _resolve(module, is_package, child)
                # ``from a import b`` may name the submodule a.b or a name in a: keep both candidates.
                edges.extend(Edge(module, f"{base}.{alias.name}", child.lineno, local) for alias in child.names)
                edges.append(Edge(module, base, child.lineno, local))
            visit(child, inner)

    visit(ast.parse(source), False)
    return tuple(edges)


def project_edges(modules: dict[str, Path]) -> list[Edge]:
    """Imports between project modules, each resolved to the module it loads."""
    edges = []
    for module, path in modules.items():
        for edge in imports_of(module, path.read_text(), is_package=path.name == "__init__.py"):
            target = _known(edge.target, modules)
            if target and target != module:
                edges.append(Edge(module, target, edge.line, edge.local))
    return edges


def _known(name: str, modules: Iterable[str]) -> str | None:
    """The project module ``name`` loads: itself, or the closest package above it (``from a import name``)."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def external_edges(modules: dict[str, Path]) -> list[Edge]:
    return [
        edge
        for module, path in modules.items()
        for edge in imports_of(module, path.read_text(), is_package=path.name == "__init__.py")
    ]


# -- the rules -----------------------------------------------------------------------


def find_cycle(edges: Iterable[Edge]) -> list[str]:
    """One cycle among module-level imports, as a path that ends where it starts ([] when there is none)."""
    graph: dict[str, set[str]] = {}
    for edge in edges:
        if not edge.local:
            graph.setdefault(edge.source, set()).add(edge.target)
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def walk(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := walk(nxt)):
                return found
        path.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state and (found := walk(node)):
            return found
    return []


def _top(name: str) -> str:
    return name.split(".")[0]


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _edge_breaches(edge: Edge) -> list[str]:
    source, target = _top(edge.source), _top(edge.target)
    bad = []
    if source == "liqengine" and target != "liqengine":
        bad.append("the engine imports the project")
    if source == "plugins" and not (
        _within(edge.target, "liqsite.exchanges") or edge.target.split(".")[:2] == edge.source.split(".")[:2]
    ):
        bad.append("a plugin imports more than liqsite.exchanges and its own package")
    if _within(edge.source, "liqsite.exchanges") and not _within(edge.target, "liqsite.exchanges"):
        bad.append("the plugin API imports the rest of the project")
    if source in APP_ORDER and target in APP_ORDER and APP_ORDER.index(target) > APP_ORDER.index(source):
        bad.append(f"{source} imports {target}, which sits above it")
    to_pages = any(_within(edge.target, page) for page in HEATMAP_PAGES)
    if to_pages and source != "heatmaps":
        bad.append("outside heatmaps, an import of the pages")
    elif to_pages and not any(_within(edge.source, page) for page in HEATMAP_PAGES):
        bad.append("below the pages, an import of the pages")
    return bad


def layer_violations(project: Iterable[Edge], external: Iterable[Edge]) -> list[str]:
    """Every import that points the wrong way, module- or function-level, each named once."""
    bad = []
    for edge in project:
        bad.extend(f"{breach}: {edge}" for breach in _edge_breaches(edge))
    for edge in external:
        if _top(edge.source) == "liqengine" and _top(edge.target) == "django":
            bad.append(f"the engine imports Django: {edge}")
    return sorted(set(bad))


# Names every app may use once per package by convention: Django's and Celery's
# files, and a domain's models/X beside its services/X (netbox's and HackSoft's layout).
CONVENTIONAL_NAMES = {"apps", "admin", "urls", "views", "forms", "tasks", "signals", "selectors", "services", "models"}


def name_clashes(modules: Iterable[str]) -> list[str]:
    """Modules of one app with the same name in two packages (``heatmaps/pages/shares`` beside
    ``heatmaps/models/shares`` was one): a reader cannot tell from an import which one is meant.

    Management commands are named for the command they run, plugins share one shape by
    design, and a domain's ``models/X`` beside its ``services/X`` is the same domain.
    """
    seen: dict[tuple[str, str], set[str]] = {}
    for module in modules:
        parts = module.split(".")
        if len(parts) < 2 or "commands" in parts or parts[0] == "plugins" or parts[-1] in CONVENTIONAL_NAMES:
            continue
        seen.setdefault((parts[0], parts[-1]), set()).add(module)
    clashes = []
    for (app, name), found in sorted(seen.items()):
        layers = {module.split(".")[-2] for module in found}
        if len(found) > 1 and not (len(found) == 2 and layers == {"models", "services"}):
            clashes.append(f"{app}: {name} is {', '.join(sorted(found))}")
    return clashes


# -- the tests -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def modules():
    return project_modules()


def test_every_package_is_read(modules):
    # A wrong root or an empty glob would make every rule pass on nothing.
    for package in PACKAGES:
        assert package in modules, package
    assert len(modules) > 100


def test_no_import_cycle_at_module_level(modules):
    cycle = find_cycle(project_edges(modules))
    assert not cycle, "import cycle: " + " → ".join(cycle)


def test_imports_point_down_the_layers(modules):
    bad = layer_violations(project_edges(modules), external_edges(modules))
    assert not bad, "\n".join(bad)


def test_no_two_modules_of_one_app_share_a_name(modules):
    clashes = name_clashes(modules)
    assert not clashes, "\n".join(clashes)


# -- each check finds what it is there to find ---------------------------------------------


def _planted(modules: dict[str, Path], module: str, line: str) -> list[Edge]:
    """The project's edges with ``line`` added to ``module``'s source."""
    edges = [edge for edge in project_edges(modules) if edge.source != module]
    source = modules[module].read_text() + "\n" + line + "\n"
    for edge in imports_of(module, source, is_package=modules[module].name == "__init__.py"):
        target = _known(edge.target, modules)
        if target and target != module:
            edges.append(Edge(module, target, edge.line, edge.local))
    return edges


def test_a_planted_cycle_is_found_with_its_path(modules):
    edges = _planted(modules, "markets.models", "import markets.tasks")
    cycle = find_cycle(edges)
    assert cycle and cycle[0] == cycle[-1]
    assert "markets.models" in cycle and "markets.tasks" in cycle


def test_a_function_level_import_makes_no_start_up_cycle(modules):
    edges = _planted(modules, "markets.models", "def later():\n    import markets.tasks")
    assert not find_cycle(edges)


@pytest.mark.parametrize(
    ("module", "line", "complaint"),
    [
        ("liqengine.bands", "from grids.models import GridSnapshot", "the engine imports the project"),
        ("plugins.binance.plugin", "from markets.models import Market", "a plugin imports more"),
        ("plugins.okx.plugin", "from plugins.bybit import parse", "a plugin imports more"),
        ("markets.refresh", "from grids.tasks import compute_grids", "markets imports grids"),
        ("grids.computation", "def later():\n    from accuracy.models import AccuracyReport", "grids imports accuracy"),
        ("accuracy.service", "from alerts.models import Alert", "accuracy imports alerts"),
        ("accuracy.views", "from heatmaps.share_links import create_share_link", "accuracy imports heatmaps"),
        ("heatmaps.share_links", "from alerts.models import Alert", "heatmaps imports alerts"),
        ("alerts.services.evaluation", "from heatmaps.pages.charted import shared_view", "an import of the pages"),
        ("alerts.views", "from heatmaps import charts", "an import of the pages"),
        ("markets.admin", "from heatmaps.views import market_list", "an import of the pages"),
        ("heatmaps.share_links", "from heatmaps.pages.context import view_context", "below the pages"),
        ("liqsite.exchanges.base", "from markets.models import Market", "the plugin API imports"),
    ],
)
def test_a_planted_layer_breach_is_found(modules, module, line, complaint):
    before = set(layer_violations(project_edges(modules), []))
    new = set(layer_violations(_planted(modules, module, line), [])) - before
    assert any(complaint in message and module in message for message in new), new


def test_a_name_clash_is_found(modules):
    assert not any("window" in clash for clash in name_clashes(modules))
    assert any("heatmaps: window" in clash for clash in name_clashes([*modules, "heatmaps.pages.window"]))


def test_a_django_import_in_the_engine_is_found(modules):
    edges = imports_of("liqengine.bands", "def f():\n    from django.db import models\n")
    assert any("the engine imports Django" in message for message in layer_violations([], edges))

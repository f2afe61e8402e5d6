"""The layer contract (issue 13): imports run one way, floor ← workflow ← notifications ← tickets, alerts
← reports ← roof.

The contracts live in `pyproject.toml` (`[tool.importlinter]`) and are run here with import-linter, whose
import graph (grimp) counts every import statement, also those inside functions. This module

- runs them on the tree and fails with the linter's report when one is broken;
- shows each contract bites: a copy of the packages with one deliberate violation must fail, naming it;
- checks by AST what a contract cannot express: no function-level import from another app, no
  `except ImportError` around a first-party import, no `import_module("other_app…")` hidden from the graph;
- checks that every first-party module sits in a layer, so a new module cannot slip past the contract.
"""

from __future__ import annotations

import ast
import functools
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
APPS = tuple(CONFIG["root_packages"])
CONTRACTS = {contract["id"]: contract for contract in CONFIG["contracts"]}
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

# Package modules that hold layers of different heights, so they sit in none; what each may import.
UNLAYERED = {
    # Django's Celery bootstrap: load the Celery app with Django so that @shared_task binds to it.
    "opsdesk": {"opsdesk.celery"},
    "opsdesk.api": set(),
}
GUARD_ERRORS = {"ImportError", "ModuleNotFoundError"}
DYNAMIC_IMPORTERS = {"import_module", "__import__", "import_string"}


# --- running import-linter ----------------------------------------------------------------------------

def lint_imports(root: Path) -> subprocess.CompletedProcess:
    """Run the contracts of root/pyproject.toml on the packages under root (not on what is installed)."""
    path = os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path, "COLUMNS": "200"}  # wide, so that no report line wraps
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=300)


def report_of(result: subprocess.CompletedProcess) -> str:
    """The linter's report without its banner."""
    text = result.stdout + result.stderr
    start = text.find("Contracts\n---------")
    return text[start:] if start >= 0 else text


def broken_sections(report: str) -> dict[str, str]:
    """{contract name: its part of the "Broken contracts" section of a report}."""
    _, _, broken = report.partition("Broken contracts\n----------------\n")
    lines = broken.splitlines()
    names = {contract["name"] for contract in CONTRACTS.values()}
    starts = [i for i, line in enumerate(lines[:-1]) if line in names and set(lines[i + 1]) == {"-"}]
    return {lines[start]: "\n".join(lines[start:end])
            for start, end in zip(starts, [*starts[1:], len(lines)], strict=True)}


def test_the_layer_contract_holds():
    result = lint_imports(ROOT)
    report = report_of(result)
    assert result.returncode == 0, f"a contract of pyproject.toml [tool.importlinter] is broken:\n{report}"
    assert f"Contracts: {len(CONTRACTS)} kept, 0 broken." in report, report


# --- the contracts bite ---------------------------------------------------------------------------------

def copy_packages(dest: Path) -> Path:
    """The Python files of every first-party package and pyproject.toml, copied under dest."""

    def ignore(directory: str, names: list[str]) -> list[str]:
        return [name for name in names if name == "__pycache__"
                or (not name.endswith(".py") and not Path(directory, name).is_dir())]

    for app in APPS:
        shutil.copytree(ROOT / app, dest / app, ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", dest / "pyproject.toml")
    return dest


def append(path: Path, code: str) -> int:
    """Append code to a module; the line number of its last line."""
    text = path.read_text(encoding="utf-8").rstrip("\n") + "\n\n\n" + code.strip("\n") + "\n"
    path.write_text(text, encoding="utf-8")
    return len(text.splitlines())


VIOLATIONS = {
    # contract id: (file, appended code, the import the report must name)
    # Inside a function: this is also the proof that the import graph counts function-level imports.
    "layers": ("workflow/engine.py",
               "def _deliberate_violation():\n    from reports import services\n",
               "workflow.engine -> reports.services"),
    "models": ("tickets/models.py", "from tickets import services as _services\n",
               "tickets.models -> tickets.services"),
    "alerts-without-tickets": ("alerts/selectors.py", "from tickets import models as _ticket_models\n",
                               "alerts.selectors -> tickets.models"),
    "tickets-reads-alerts-selectors": ("tickets/selectors.py", "from alerts import models as _alert_models\n",
                                       "tickets.selectors -> alerts.models"),
}


@pytest.mark.parametrize("contract_id", VIOLATIONS)
def test_a_deliberate_violation_breaks_its_contract(tmp_path, contract_id):
    relative, code, named = VIOLATIONS[contract_id]
    copy = copy_packages(tmp_path)
    line = append(copy / relative, code)

    result = lint_imports(copy)
    report = report_of(result)
    assert result.returncode != 0, report
    section = broken_sections(report).get(CONTRACTS[contract_id]["name"], "")
    assert f"{named} (l.{line})" in section, f"{contract_id!r} does not name {named} (l.{line}):\n{report}"


def test_the_ast_checks_bite(tmp_path):
    copy = copy_packages(tmp_path)
    lazy_line = append(copy / "workflow/engine.py", VIOLATIONS["layers"][1])
    guard_line = append(copy / "alerts/selectors.py", "try:\n    from alerts import choices as _choices\n"
                                                      "except ImportError:\n    _choices = None\n")
    dynamic_line = append(copy / "workflow/engine.py",
                          "def _deliberate_dynamic():\n"
                          "    import importlib\n\n"
                          "    return importlib.import_module('tickets.models')\n")

    found = "\n".join(lazy_cross_app_imports(copy) + import_error_guards(copy) + hidden_imports(copy))
    assert f"workflow/engine.py:{lazy_line}: `from reports import services`" in found, found
    assert f"alerts/selectors.py:{guard_line - 2}: `from alerts import choices as _choices`" in found, found
    assert f"workflow/engine.py:{dynamic_line}: import_module('tickets.models')" in found, found


# --- what the contracts cannot say: AST walks -------------------------------------------------------------

@functools.cache
def first_party_sources(root: Path) -> list[tuple[Path, str, ast.Module]]:
    """(path, module name, tree) of every first-party module under root, migrations excluded (parsed once
    per root: several checks read the same trees)."""
    sources = []
    for app in APPS:
        for path in sorted((root / app).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if "migrations" in parts:
                continue  # they import module paths by design and are frozen history
            module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            sources.append((path, module, ast.parse(path.read_bytes(), filename=str(path))))
    return sources


def imported_modules(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    """The absolute module names an import statement names (relative imports resolved)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level == 0:
        return [node.module or ""]
    package = module.split(".") if is_package else module.split(".")[:-1]
    base = package[: len(package) - (node.level - 1)]
    return [".".join([*base, node.module] if node.module else base)]


def app_of(name: str) -> str | None:
    top = name.split(".", 1)[0]
    return top if top in APPS else None


def where(root: Path, path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(root).as_posix()}:{node.lineno}"


def function_level_imports(tree: ast.AST, function: str | None = None) -> Iterator[tuple[ast.stmt, str]]:
    """(import statement, name of the function it is in) of every import inside a function."""
    for child in ast.iter_child_nodes(tree):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            yield from function_level_imports(child, getattr(child, "name", "<lambda>"))
            continue
        if function and isinstance(child, ast.Import | ast.ImportFrom):
            yield child, function
        yield from function_level_imports(child, function)


def lazy_cross_app_imports(root: Path) -> list[str]:
    """Imports inside a function that reach another app: they hide a dependency until run time."""
    found = []
    for path, module, tree in first_party_sources(root):
        own = app_of(module)
        for node, function in function_level_imports(tree):
            others = {app_of(name) for name in imported_modules(node, module, path.name == "__init__.py")}
            others -= {None, own}
            if others:
                found.append(f"{where(root, path, node)}: `{ast.unparse(node)}` inside {function}() "
                             f"reaches another app ({own} -> {', '.join(sorted(others))})")
    return found


def import_error_guards(root: Path) -> list[str]:
    """`try: import first-party… except ImportError`: the apps are always installed, so the guard only
    hides a broken import (or a dependency cycle) instead of failing."""
    found = []
    for path, module, tree in first_party_sources(root):
        is_package = path.name == "__init__.py"
        for node in ast.walk(tree):
            if not isinstance(node, ast.Try | ast.TryStar):
                continue
            guards = [handler for handler in node.handlers if GUARD_ERRORS & exception_names(handler.type)]
            if not guards:
                continue
            for statement in node.body:
                for child in ast.walk(statement):
                    if isinstance(child, ast.Import | ast.ImportFrom) and any(
                            app_of(name) for name in imported_modules(child, module, is_package)):
                        found.append(f"{where(root, path, child)}: `{ast.unparse(child)}` is guarded by "
                                     f"`except {ast.unparse(guards[0].type)}` (line {guards[0].lineno})")
    return found


def exception_names(node: ast.expr | None) -> set[str]:
    if isinstance(node, ast.Tuple):
        return set().union(*(exception_names(element) for element in node.elts))
    if isinstance(node, ast.Name):
        return {node.id}
    if isinstance(node, ast.Attribute):
        return {node.attr}
    return set()


def hidden_imports(root: Path) -> list[str]:
    """`import_module("other_app…")` and the like: an import of another app the import graph cannot see."""
    found = []
    for path, module, tree in first_party_sources(root):
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)):
                continue
            func = node.func
            name = getattr(func, "id", None) or getattr(func, "attr", "")
            target = app_of(node.args[0].value)
            if name in DYNAMIC_IMPORTERS and target and target != app_of(module):
                found.append(f"{where(root, path, node)}: {name}({node.args[0].value!r}) imports another app "
                             f"out of the layer contract's sight")
    return found


def test_no_function_level_import_reaches_another_app():
    found = lazy_cross_app_imports(ROOT)
    assert not found, ("move these imports to the top of the module (or the dependency is upside down):\n"
                       + "\n".join(found))


def test_no_first_party_import_is_guarded_by_except_import_error():
    found = import_error_guards(ROOT)
    assert not found, "every app is installed; import it plainly:\n" + "\n".join(found)


def test_no_other_app_is_imported_dynamically():
    found = hidden_imports(ROOT)
    assert not found, "import it with a statement, where the layer contract sees it:\n" + "\n".join(found)


# --- the contract covers every module -------------------------------------------------------------------

def layer_modules() -> set[str]:
    modules = set()
    for layer in CONTRACTS["layers"]["layers"]:
        for name in re.split(r"[:|]", layer):
            modules.add(name.strip().strip("()"))
    return modules


def test_every_first_party_module_sits_in_a_layer():
    layers = layer_modules()
    outside = sorted(module for _, module, _ in first_party_sources(ROOT)
                     if module not in UNLAYERED
                     and not any(module == layer or module.startswith(layer + ".") for layer in layers))
    assert not outside, ("add these modules to a layer in pyproject.toml ([tool.importlinter], "
                         f"contract 'layers'): {outside}")


def test_the_package_modules_outside_the_layers_import_only_what_they_are_allowed():
    graph = grimp.build_graph(*APPS, cache_dir=None)
    found = {module: sorted(graph.find_modules_directly_imported_by(module) - allowed)
             for module, allowed in UNLAYERED.items()}
    found = {module: imports for module, imports in found.items() if imports}
    assert not found, f"these package modules sit in no layer, so nothing else checks their imports: {found}"


# --- no cycle spans two apps -----------------------------------------------------------------------------

def package_of(module: str) -> str:
    """The app a module belongs to; `opsdesk`'s floor and roof modules count each as their own."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "opsdesk" else parts[0]


def import_cycles(graph) -> list[list[str]]:
    """Groups of modules that import each other in a circle (strongly connected, iterative Tarjan),
    counting every import statement, those inside functions too."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    cycles: list[list[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                members = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    members.append(member)
                    if member == node:
                        break
                if len(members) > 1:
                    cycles.append(sorted(members))
    return cycles


def test_no_import_cycle_spans_two_apps():
    graph = grimp.build_graph(*APPS, cache_dir=None)
    spanning = [cycle for cycle in import_cycles(graph) if len({package_of(m) for m in cycle}) > 1]
    assert not spanning, f"modules of different apps import each other in a circle: {spanning}"


def test_the_cycle_check_finds_a_circle_across_apps(tmp_path):
    copy = copy_packages(tmp_path)
    append(copy / "workflow" / "engine.py", "def _deliberate():\n    from tickets import services  # noqa\n")
    # In a fresh interpreter, with the copy ahead of the checkout on the path.
    script = ("import grimp\nfrom tests.project.test_layers import APPS, import_cycles, package_of\n"
              "graph = grimp.build_graph(*APPS, cache_dir=None)\n"
              "for cycle in import_cycles(graph):\n"
              "    if len({package_of(m) for m in cycle}) > 1:\n"
              "        print(' '.join(cycle))\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(copy), str(ROOT)])}
    result = subprocess.run([sys.executable, "-c", script], cwd=copy, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert any("workflow.engine" in line.split() and "tickets.services" in line.split()
               for line in result.stdout.splitlines()), result.stdout

"""The package layout holds: imports parsed with ast (top-level and inside functions alike) form no
cycle, each subpackage imports only what its __init__.py docstring allows ("May import: ..."), and the
allowances are the layers core < models < generate < benchbuilder, core < scoring < browser, core < download.
Also: the
v0.1 defaults appear as string literals only in arena_hard/core/bench_version.py, and the api_types the
endpoint file accepts (core) are those with a provider (models). In scoring/, each bench version's
leaderboard has a folder (v01/, v2/) holding the same role modules; a version folder never imports
another's, and the shared scoring modules import none. No module is over 300 lines."""
from __future__ import annotations

import ast
import re
from pathlib import Path

from conftest import REPO_ROOT

PACKAGE = REPO_ROOT / "arena_hard"
SUBPACKAGES = ("core", "models", "generate", "scoring", "download", "browser", "benchbuilder")
LAYERS = {"core": set(), "models": {"core"}, "generate": {"core", "models"}, "scoring": {"core"},
          "browser": {"core", "scoring"}, "download": {"core"}, "benchbuilder": {"core", "models", "generate"}}
V0_1_DEFAULTS = ("arena-hard-v0.1", "gpt-4-1106-preview", "gpt-4-0314")


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imported_modules(path: Path) -> set[str]:
    """The arena_hard modules `path` imports (`from arena_hard.x import y` counts y when y is a module)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.update(f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in MODULES else node.module
                         for alias in node.names)
    return {name for name in found if name.split(".")[0] == "arena_hard"}


GRAPH = {name: imported_modules(path) for name, path in MODULES.items()}


def subpackage(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in SUBPACKAGES else None


def allowed_by_docstring(name: str) -> set[str]:
    docstring = ast.get_docstring(ast.parse((PACKAGE / name / "__init__.py").read_text(encoding="utf-8"))) or ""
    line = re.search(r"May import:(.*)", docstring, re.DOTALL)
    assert line, f"arena_hard/{name}/__init__.py does not say what it may import"
    return set(re.findall(r"arena_hard\.(\w+)", line.group(1)))


def test_every_module_is_in_a_subpackage():
    assert {subpackage(m) for m in MODULES if m != "arena_hard"} == set(SUBPACKAGES)
    assert [m for m in MODULES if m != "arena_hard" and subpackage(m) is None] == []


def test_each_subpackage_docstring_states_its_layer():
    assert {name: allowed_by_docstring(name) for name in SUBPACKAGES} == LAYERS


def test_lower_layers_never_import_higher_ones():
    wrong = [f"{module} imports {target}" for module, targets in GRAPH.items() for target in targets
             if subpackage(module) and subpackage(target) != subpackage(module)
             and subpackage(target) not in LAYERS[subpackage(module)]]
    assert wrong == []


def test_the_import_graph_has_no_cycle():
    state: dict[str, str] = {}
    cycles = []

    def visit(module: str, trail: list[str]) -> None:
        state[module] = "open"
        for target in sorted(GRAPH.get(module, ())):
            if state.get(target) == "open":
                cycles.append(" -> ".join(trail[trail.index(target):] + [target]) if target in trail else target)
            elif target not in state:
                visit(target, trail + [target])
        state[module] = "done"

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def _string_literals(path: Path) -> list[tuple[int, str]]:
    """(line, text) of the string constants in a file, docstrings left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings]


def test_the_v0_1_defaults_live_only_in_the_bench_definition():
    sources = sorted(PACKAGE.rglob("*.py")) + sorted(REPO_ROOT.glob("*.py"))
    found = [f"{path.relative_to(REPO_ROOT)}:{line}: {text!r}" for path in sources
             if path != PACKAGE / "core" / "bench_version.py"
             for line, text in _string_literals(path) if any(default in text for default in V0_1_DEFAULTS)]
    assert found == []


def test_the_endpoint_file_accepts_exactly_the_api_types_with_a_provider():
    from arena_hard.core.endpoints import API_TYPES
    from arena_hard.models.providers import PROVIDERS

    assert set(API_TYPES) == set(PROVIDERS)


SCORING = PACKAGE / "scoring"
VERSION_FOLDERS = sorted(path.name for path in SCORING.iterdir() if (path / "__init__.py").exists())
# The roles every bench version's leaderboard fills, one module each, named alike in every version folder.
ROLES = {"run", "battles", "fit", "style_control", "board", "table", "full_stats", "output"}


def version_folder(module: str) -> str | None:
    parts = module.split(".")
    return parts[2] if len(parts) > 3 and parts[1] == "scoring" and parts[2] in VERSION_FOLDERS else None


def test_each_bench_version_has_its_scoring_folder_with_the_same_role_modules():
    assert VERSION_FOLDERS == ["v01", "v2"]
    for folder in VERSION_FOLDERS:
        assert ROLES <= {path.stem for path in (SCORING / folder).glob("*.py")}, folder


def test_a_version_folder_never_imports_another_and_shared_scoring_never_imports_a_version():
    wrong = []
    for module, targets in GRAPH.items():
        if subpackage(module) != "scoring":
            continue
        for target in targets:
            if version_folder(target) and version_folder(target) != version_folder(module):
                wrong.append(f"{module} imports {target}")
    assert wrong == []


def test_no_module_is_over_300_lines():
    sources = sorted(PACKAGE.rglob("*.py")) + sorted(REPO_ROOT.glob("*.py"))
    long = [f"{path.relative_to(REPO_ROOT)}: {n}" for path in sources
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > 300]
    assert long == []

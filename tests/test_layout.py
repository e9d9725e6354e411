"""The package's layering: no import cycle among modules' top-level imports, and the Ray runner needs only
the shared parts of ``jobs`` (never the segment/refine code or the local runner)."""

import ast
from pathlib import Path

import spnrefine

ROOT = Path(spnrefine.__file__).parent


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def top_level_imports() -> dict[str, set[str]]:
    """module → the spnrefine modules its top-level statements import (lazy imports inside functions excluded)."""
    modules = {_module_name(p): p for p in ROOT.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found = set()
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")
                    base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
                candidates = [f"{base}.{alias.name}" for alias in node.names] + [base]
            elif isinstance(node, ast.Import):
                candidates = [alias.name for alias in node.names]
            else:
                continue
            found |= {c for c in candidates if c in modules and c != name}
        graph[name] = found
    return graph


def test_top_level_imports_have_no_cycle():
    graph = top_level_imports()
    state: dict[str, int] = {}

    def visit(node, trail):
        state[node] = 1
        for child in graph[node]:
            if state.get(child) == 1:
                raise AssertionError("import cycle: " + " → ".join([*trail, node, child]))
            if child not in state:
                visit(child, [*trail, node])
        state[node] = 2

    for module in graph:
        if module not in state:
            visit(module, [])


def test_the_ray_runner_imports_only_the_shared_job_parts():
    imported = top_level_imports()["spnrefine.jobs.ray_runner"]
    assert imported <= {"spnrefine.errors", "spnrefine.jobs.types", "spnrefine.jobs.report"}, imported


def test_only_the_runner_imports_the_ray_runner():
    users = {m for m, deps in top_level_imports().items() if "spnrefine.jobs.ray_runner" in deps}
    assert users == set(), users  # imported lazily, inside functions, only for --engine ray

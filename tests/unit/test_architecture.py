"""The structure of docs/architecture.md, held against the code.

Dependencies point down the layers (each folder may import only what its row
allows), no module imports another that imports it back, and no module or class
grows past the size where it does more than one job.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
CLI = ROOT / "cli"

#: What each part of ``opmodel`` may import of ``opmodel`` (besides itself), by module prefix.
LAYERS: dict[str, tuple[str, ...]] = {
    "opmodel.errors": (),
    "opmodel.domain": ("opmodel.errors",),
    "opmodel.store": ("opmodel.errors", "opmodel.domain.values"),
    "opmodel.audit.canonical": (),
    "opmodel.projections": (
        "opmodel.errors",
        "opmodel.domain",
        "opmodel.audit.canonical",
        # the store's vocabulary: events as read, statements run, tables described
        "opmodel.store.events",
        "opmodel.store.execution",
        "opmodel.store.schema",
    ),
    "opmodel.commands": ("opmodel.errors", "opmodel.domain"),
    "opmodel.unit_of_work": ("opmodel.errors",),
    "opmodel.handlers": (
        "opmodel.errors", "opmodel.domain", "opmodel.commands", "opmodel.unit_of_work",
    ),
    "opmodel.application": (
        "opmodel.errors", "opmodel.domain.values", "opmodel.store.codec", "opmodel.handlers",
        "opmodel.unit_of_work", "opmodel.commands",
    ),
    "opmodel.catchup": (
        "opmodel.errors", "opmodel.store", "opmodel.projections", "opmodel.unit_of_work",
    ),
    "opmodel.writing": (
        "opmodel.errors", "opmodel.domain", "opmodel.store", "opmodel.application",
        "opmodel.catchup", "opmodel.commands",
    ),
    "opmodel.importing": (
        "opmodel.errors", "opmodel.domain", "opmodel.store", "opmodel.application",
        "opmodel.commands", "opmodel.projections", "opmodel.writing",
    ),
    "opmodel.diffing": ("opmodel.domain.values",),
    "opmodel.timetravel": (
        "opmodel.errors", "opmodel.domain", "opmodel.store", "opmodel.projections",
    ),
    "opmodel.queries": (
        "opmodel.errors", "opmodel.store", "opmodel.projections", "opmodel.timetravel",
        "opmodel.diffing",
    ),
    "opmodel.audit.integrity": (
        "opmodel.errors", "opmodel.store", "opmodel.projections", "opmodel.audit.canonical",
    ),
    "opmodel.service": (
        "opmodel.errors", "opmodel.domain", "opmodel.store", "opmodel.application",
        "opmodel.commands", "opmodel.catchup", "opmodel.writing", "opmodel.importing",
        "opmodel.queries", "opmodel.projections.results",
    ),
    "opmodel": ("opmodel.",),  # the package's own __init__: the public API, lazily
}  # fmt: skip

#: What the command line may import of ``opmodel``: the public API, and the import file's
#: prefetch, which must start before the engine is loaded (ADR 0013).
CLI_ALLOWED = (
    "opmodel.service", "opmodel.commands", "opmodel.errors", "opmodel.audit.integrity",
    "opmodel.importing.prefetch",
)  # fmt: skip

MAX_MODULE_LINES = 600
MAX_CLASS_LINES = 400


def _modules(folder: Path) -> Iterator[tuple[str, Path]]:
    for path in sorted(folder.rglob("*.py")):
        parts = path.relative_to(folder).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join(parts), path


def _imports(path: Path, module: str) -> set[str]:
    """Every ``opmodel`` module a file imports (top level or inside functions)."""
    names: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                names.add(f"{base}.{alias.name}" if base == "opmodel" else base)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {n for n in names if n == "opmodel" or n.startswith("opmodel.")}


def _layer(module: str) -> str:
    """The row of :data:`LAYERS` a module belongs to (its longest prefix)."""
    rows = [row for row in LAYERS if module == row or module.startswith(row + ".")]
    assert rows, f"{module} belongs to no layer of docs/architecture.md: add it to LAYERS"
    return max(rows, key=len)


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p if p.endswith(".") else p + ".") for p in prefixes)


SOURCE = list(_modules(SRC))


def test_every_layer_imports_only_the_layers_below_it() -> None:
    offending = {}
    for module, path in SOURCE:
        layer = _layer(module)
        allowed = (layer, *LAYERS[layer])
        bad = {n for n in _imports(path, module) if not _within(n, allowed)}
        if bad:
            offending[module] = sorted(bad)
    assert offending == {}


def test_no_module_imports_one_that_imports_it_back() -> None:
    graph = {module: set() for module, _ in SOURCE}
    for module, path in SOURCE:
        for name in _imports(path, module):
            target = name
            while target and target not in graph:
                target = target.rpartition(".")[0]
            if target and target != module and not module.startswith(target + "."):
                graph[module].add(target)
    cycles: list[list[str]] = []

    def visit(node: str, trail: list[str]) -> None:
        for nxt in sorted(graph[node]):
            if nxt in trail:
                cycle = trail[trail.index(nxt) :]
                if min(cycle) == cycle[0] and cycle not in cycles:
                    cycles.append(cycle)
            elif len(trail) < 12:
                visit(nxt, [*trail, nxt])

    for module in graph:
        visit(module, [module])
    assert cycles == []


def test_the_read_side_and_audit_never_import_the_facade() -> None:
    for module, path in SOURCE:
        if module.startswith(("opmodel.projections", "opmodel.audit", "opmodel.timetravel",
                              "opmodel.queries", "opmodel.catchup", "opmodel.store")):  # fmt: skip
            assert "opmodel.service" not in _imports(path, module), module


def test_the_cli_uses_the_public_api_only() -> None:
    import opmodel

    public = tuple(f"opmodel.{name}" for name in opmodel.__all__)
    offending = {}
    for module, path in _modules(CLI):
        imported = _imports(path, module)
        bad = {n for n in imported if n not in public and not _within(n, CLI_ALLOWED)}
        if bad:
            offending[module] = sorted(bad)
    assert offending == {}


@pytest.mark.parametrize("folder", [SRC, CLI], ids=["src", "cli"])
def test_no_module_is_longer_than_one_job(folder: Path) -> None:
    long = {
        str(path.relative_to(ROOT)): lines
        for _, path in _modules(folder)
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def test_no_class_is_longer_than_one_job() -> None:
    long = {}
    for module, path in SOURCE:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and node.end_lineno is not None:
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_CLASS_LINES:
                    long[f"{module}.{node.name}"] = lines
    assert long == {}


def test_the_domain_imports_nothing_of_ours_but_errors_and_itself() -> None:
    for module, path in SOURCE:
        if module.startswith("opmodel.domain"):
            assert {n for n in _imports(path, module) if not _within(n, LAYERS["opmodel.domain"])
                    and not _within(n, ("opmodel.domain",))} == set(), module  # fmt: skip

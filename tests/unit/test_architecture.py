"""Dependencies point inward: the layers import only what they may."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _imports(folder: Path) -> dict[str, set[str]]:
    """Every opmodel module each file under ``folder`` imports (top level or inside functions)."""
    found: dict[str, set[str]] = {}
    for path in sorted(folder.rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
        found[str(path.relative_to(ROOT))] = {
            n for n in names if n == "opmodel" or n.startswith("opmodel.")
        }
    return found


def _outside(imports: dict[str, set[str]], allowed: tuple[str, ...]) -> dict[str, set[str]]:
    return {
        path: bad
        for path, names in imports.items()
        if (bad := {n for n in names if not n.startswith(allowed)})
    }


def test_the_domain_imports_nothing_of_ours_but_errors_and_itself() -> None:
    imports = _imports(ROOT / "src" / "opmodel" / "domain")
    assert imports, "the domain package was not found"
    assert _outside(imports, ("opmodel.domain", "opmodel.errors")) == {}


def test_the_write_side_does_not_know_about_read_models_or_the_cli() -> None:
    imports = _imports(ROOT / "src" / "opmodel")
    application = imports["src/opmodel/application.py"]
    assert application
    assert not {n for n in application if n.startswith(("opmodel.projections", "opmodel.service"))}


def test_read_models_depend_on_domain_values_and_the_chain_only() -> None:
    imports = _imports(ROOT / "src" / "opmodel" / "projections")
    allowed = ("opmodel.projections", "opmodel.domain", "opmodel.errors", "opmodel.audit.canonical")
    assert _outside(imports, allowed) == {}


def test_the_cli_uses_the_public_api_only() -> None:
    imports = _imports(ROOT / "cli" / "opmodel_cli")
    public = ("opmodel_cli",)  # the CLI's own modules are not matched by the opmodel filter
    assert imports["cli/opmodel_cli/main.py"]
    allowed = (
        "opmodel.service", "opmodel.commands", "opmodel.errors", "opmodel.audit.integrity",
        *public,
    )  # fmt: skip
    offending = {
        path: {n for n in names if n != "opmodel" and not n.startswith(allowed)}
        for path, names in imports.items()
    }
    assert {p: n for p, n in offending.items() if n} == {}

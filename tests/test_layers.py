"""The architecture holds: data flows crawler → store → changes → alerts/web, no layer imports one
above it, and only the composition root ``policywatch`` wires layers together; its settings and verdicts are
the leaves every layer may read."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RANK = {"crawler": 0, "store": 1, "changes": 2, "alerts": 3, "web": 4}
LEAVES = ("policywatch.settings", "policywatch.verdicts")


def imports_of(path: Path) -> set[str]:
    """The top-level modules (with policywatch's submodule) that ``path`` imports."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def layer_of(module: str) -> str | None:
    top = module.split(".")[0]
    return top if top in RANK or top == "policywatch" else None


@pytest.mark.parametrize("package", sorted(RANK))
def test_no_layer_imports_one_above_it_or_the_composition_root(package):
    offences = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for module in imports_of(path):
            target = layer_of(module)
            if target == "policywatch" and module not in LEAVES:
                offences.append(
                    f"{path.relative_to(ROOT)} imports {module} (only settings and verdicts may be read)"
                )
            elif target in RANK and RANK[target] > RANK[package] and {package, target} != {"alerts", "web"}:
                offences.append(f"{path.relative_to(ROOT)} imports {module}, a layer above {package}")
            elif package == "alerts" and target == "web":
                offences.append(f"{path.relative_to(ROOT)} imports {module}: alerts must not depend on web")
    assert offences == []

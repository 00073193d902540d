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


#: The crawler modules each store module may import: the data the crawler hands over
#: (``crawler.fetch.items``), and, still, the declarations the catalog loads and the plan it builds.
STORE_READS_OF_CRAWLER = {
    "store.fetches": {"crawler.fetch.items"},
    "store.sources_file": {"crawler.sources.declarations"},
    "store.crawl_plan": {"crawler.sources.plan"},
    "store.announcements": {"crawler.newsroom.items", "crawler.sources.plan"},
}


def test_the_store_imports_of_the_crawler_only_the_data_it_persists():
    offences = [
        f"{path.relative_to(ROOT)} imports {module}: the store persists what the crawler hands it"
        for path in sorted((ROOT / "store").rglob("*.py"))
        for module in sorted(imports_of(path))
        if layer_of(module) == "crawler" and module not in STORE_READS_OF_CRAWLER.get(module_of(path), set())
    ]
    assert offences == []


FRONT_ENDS = ("policywatch.cli", "policywatch.service", "policywatch.demo", "web")
#: A CLI command may start the front end it names (the scheduler, a worker, the demo); nothing else
#: crosses.
STARTS = {
    ("policywatch.cli.serve", "policywatch.service"),
    ("policywatch.cli.worker", "policywatch.service"),
    ("policywatch.cli.demo", "policywatch.demo"),
}
#: Calls that make a store function a write function: methods of a ``session`` that add, delete,
#: flush or commit rows, and SQLAlchemy's insert, update and delete statements.
SESSION_WRITES = {"add", "add_all", "delete", "merge", "flush", "commit"}
STATEMENT_WRITES = {"insert", "update", "delete"}


def module_of(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def front_end_of(module: str) -> str | None:
    return next((f for f in FRONT_ENDS if module == f or module.startswith(f + ".")), None)


def front_end_files() -> list[Path]:
    return sorted(p for f in FRONT_ENDS for p in (ROOT / f.replace(".", "/")).rglob("*.py"))


def imported_names(path: Path) -> set[tuple[str, str]]:
    """(module, name) of every ``from module import name`` in ``path``, at any depth."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        (node.module, alias.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0
        for alias in node.names
    }


def store_write_functions() -> set[tuple[str, str]]:
    """(module, function) of each top-level function in ``store`` whose body adds, deletes,
    flushes or commits (``session.add(...)``, ``insert(...)``, ...)."""
    found = set()
    for path in sorted((ROOT / "store").rglob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if not isinstance(node, ast.FunctionDef):
                continue
            calls = [n.func for n in ast.walk(node) if isinstance(n, ast.Call)]
            methods = {
                c.attr
                for c in calls
                if isinstance(c, ast.Attribute) and isinstance(c.value, ast.Name) and "session" in c.value.id
            }
            functions = {c.id for c in calls if isinstance(c, ast.Name)}
            if methods & SESSION_WRITES or functions & STATEMENT_WRITES:
                found.add((module_of(path), node.name))
    return found


def test_the_store_write_functions_are_found():
    writes = store_write_functions()
    assert {("store.sources_file", "load_declarations"), ("store.versions", "record_version")} <= writes
    assert ("store.db", "make_engine") not in writes and ("store.db", "head_revision") not in writes


def test_no_front_end_imports_another():
    offences = []
    for path in front_end_files():
        module = module_of(path)
        own = front_end_of(module)
        for imported in imports_of(path):
            other = front_end_of(imported)
            if other not in (None, own) and (module, other) not in STARTS:
                offences.append(f"{path.relative_to(ROOT)} imports {imported}, another front end")
    assert offences == []


def test_front_ends_write_to_the_store_only_through_use_cases():
    writes = store_write_functions()
    offences = [
        f"{path.relative_to(ROOT)} imports {module}.{name}, a store write function: call a use case"
        for path in front_end_files()
        for module, name in sorted(imported_names(path) & writes)
    ]
    assert offences == []

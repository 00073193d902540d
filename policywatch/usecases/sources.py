"""Loading sources: a declarations file into the catalog, in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from crawler.sources.addresses import AddressPolicy
from crawler.sources.declarations import SourcesFile, read_declarations
from crawler.sources.ota import read_ota
from policywatch.runtime import Runtime
from store.db import transaction
from store.sources_file import load_declarations


def load_declared(
    runtime: Runtime,
    declared: SourcesFile,
    deactivate_missing: bool,
    origin: str,
    progress: Callable[[int, int], None] | None = None,
):
    """Load ``declared`` (read from ``origin``) into the catalog in one transaction; the load report.
    DeclarationError naming each source whose host is an internal address not allowed; ``progress``
    is told (hosts checked, hosts) as their addresses are checked."""
    AddressPolicy(runtime.settings.allowed_networks).check(declared, origin, progress)
    with transaction(runtime.engine) as session:
        return load_declarations(session, declared, deactivate_missing=deactivate_missing)


def load_sources(runtime: Runtime, path: Path):
    """Load a sources file (YAML or JSON); documents it leaves out are deactivated. The load report;
    DeclarationError when the file is invalid."""
    return load_declared(runtime, read_declarations(path), deactivate_missing=True, origin=str(path))


def import_ota(runtime: Runtime, path: Path, progress: Callable[[str, int, int], None] | None = None):
    """Import Open Terms Archive declarations (a file or a folder); (load report, warnings, one line
    per declaration file left out). ``progress`` is told (stage, done, total) as the files are read
    and their hosts checked."""
    show = progress or (lambda stage, done, total: None)
    imported = read_ota(path, lambda done, total: show("declarations read", done, total))
    report = load_declared(
        runtime,
        imported.declarations,
        deactivate_missing=False,
        origin=str(path),
        progress=lambda done, total: show("hosts checked", done, total),
    )
    return report, imported.warnings, imported.skipped

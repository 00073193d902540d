"""Open Terms Archive declarations (``<Service>.json``) read into a sources file.

An OTA service becomes a platform and each of its terms types a document; ``fetch``, ``select``,
``remove``, ``combine`` (several pages, with shared fields inherited) and ``executeClientScripts``
(→ fetcher ``browser``) carry over, range selectors included. Named JavaScript ``filters`` cannot
run here: each (under OTA's ``filter`` key, or ``filters``) is reported as a warning on its
document. In a folder, a declaration that cannot be read or is malformed is skipped and reported,
and the others are imported.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crawler.sources.declarations import DeclarationError, SourcesFile, parse_declarations

PAGE_FIELDS = ("fetch", "select", "remove", "filter", "filters", "executeClientScripts")


@dataclass
class OtaImport:
    """The sources file made from OTA declarations, and what could not be carried over."""

    declarations: SourcesFile
    warnings: list[str] = field(default_factory=list)
    #: one line per declaration file left out, naming the file and why
    skipped: list[str] = field(default_factory=list)


def slugify(text: str) -> str:
    """A lowercase slug of ``text``."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def declaration_files(path: str | Path) -> list[Path]:
    """The service declaration files at ``path``: the file itself, or ``*.json`` in the folder
    (history files left out)."""
    path = Path(path)
    if path.is_dir():
        return sorted(p for p in path.glob("*.json") if not p.name.endswith(".history.json"))
    return [path]


def read_ota(path: str | Path, progress: Callable[[int, int], None] | None = None) -> OtaImport:
    """Read one OTA declaration file or a folder of them, leaving out (and reporting in
    ``skipped``) the files that are malformed; DeclarationError naming the file when none is usable.
    ``progress`` is told (files read, files) after each file."""
    platforms, warnings, skipped = [], [], []
    files = declaration_files(path)
    if not files:
        raise DeclarationError(f"{path}: no <Service>.json declarations found")
    for done, file in enumerate(files, start=1):
        try:
            platform, found = _read_service(file)
            platforms.append(platform)
            warnings.extend(found)
        except DeclarationError as exc:
            skipped.append(str(exc))
        if progress:
            progress(done, len(files))
    if not platforms:
        raise DeclarationError("; ".join(skipped))
    return OtaImport(parse_declarations({"platforms": platforms}, str(path)), warnings, skipped)


def _read_service(file: Path) -> tuple[dict, list[str]]:
    """The platform one declaration file makes, checked alone, and its warnings."""
    try:
        service = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DeclarationError(f"{file}: cannot read an OTA declaration: {exc}") from None
    platform, warnings = _platform(service, file)
    parse_declarations({"platforms": [platform]}, str(file))
    return platform, warnings


def _platform(service: Any, file: Path) -> tuple[dict, list[str]]:
    terms = service.get("terms") or service.get("documents") if isinstance(service, dict) else None
    if not isinstance(terms, dict) or not isinstance(service.get("name"), str) or not service["name"]:
        raise DeclarationError(f"{file}: an OTA declaration needs a name and terms")
    platform_slug = slugify(service["name"])
    documents, warnings = [], []
    for terms_type, declaration in terms.items():
        slug = f"{platform_slug}-{slugify(terms_type)}"
        pages = _pages(declaration, f"{file}: {terms_type}")
        filters = sorted(
            {name for page in pages for key in ("filter", "filters") for name in _filter_names(page.get(key))}
        )
        if filters:
            warnings.append(
                f"{slug}: OTA filters {', '.join(filters)} cannot run here and were left out; "
                "add remove selectors or ignore patterns if their noise shows"
            )
        documents.append(
            {
                "slug": slug,
                "title": terms_type,
                "type": terms_type,
                "sources": [_source(page) for page in pages],
            }
        )
    return {"slug": platform_slug, "name": service["name"], "documents": documents}, warnings


def _pages(declaration: Any, where: str) -> list[dict]:
    """The pages of one terms declaration, shared fields inherited by each page it combines;
    DeclarationError (prefixed by ``where``) for a declaration of the wrong shape."""
    if not isinstance(declaration, dict):
        raise DeclarationError(f"{where}: a terms declaration is an object, got {_json_type(declaration)}")
    if "combine" in declaration:
        combined = declaration["combine"]
        if not isinstance(combined, list):
            raise DeclarationError(f"{where}: combine is a list of pages, got {_json_type(combined)}")
        shared = {key: declaration[key] for key in PAGE_FIELDS if key in declaration}
        for index, page in enumerate(combined):
            if not isinstance(page, dict):
                raise DeclarationError(f"{where}: combine[{index}] is a page object, got {_json_type(page)}")
            if "fetch" not in {**shared, **page}:
                raise DeclarationError(f"{where}: combine[{index}] has no fetch URL")
        return [{**shared, **page} for page in combined]
    if "fetch" not in declaration:
        raise DeclarationError(f"{where}: neither fetch nor combine")
    return [declaration]


def _json_type(value: Any) -> str:
    """What JSON calls the type of ``value``."""
    names = {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list"}
    return "null" if value is None else names.get(type(value), "an object")


def _filter_names(filters: Any) -> list[str]:
    names: list[Any] = []
    for item in filters if isinstance(filters, list) else [filters] if filters else []:
        names.extend(item if isinstance(item, dict) else [item])
    return [str(name) for name in names]


def _source(page: dict) -> dict:
    source: dict[str, Any] = {"url": page["fetch"]}
    for key in ("select", "remove"):
        if page.get(key):
            source[key] = page[key] if isinstance(page[key], list) else [page[key]]
    if page.get("executeClientScripts"):
        source["fetcher"] = "browser"
    return source

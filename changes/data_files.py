"""The bundled data files of ``changes`` (the topic taxonomy, the provision catalog) and the
operator's file that extends them: entries read by one parser, an operator's entry replacing the
bundled one of the same id."""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any, Protocol, TypeVar

import yaml


class _Entry(Protocol):
    @property
    def id(self) -> str: ...


E = TypeVar("E", bound=_Entry)


def bundled_and_extra(
    name: str, extra: Path | None, parse: Callable[[str, Any], list[E]], error: type[Exception]
) -> list[E]:
    """The entries of ``changes/<name>`` with those of ``extra`` (if given) added or replacing
    theirs; ``parse(source, data)`` reads one file's YAML, ``error`` names an unreadable ``extra``."""
    bundled = resources.files("changes").joinpath(name).read_text(encoding="utf-8")
    entries = {entry.id: entry for entry in parse(f"changes/{name}", yaml.safe_load(bundled))}
    if extra is not None:
        try:
            data = yaml.safe_load(extra.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise error(f"{extra}: cannot read {Path(name).stem}: {exc}") from None
        entries.update((entry.id, entry) for entry in parse(str(extra), data))
    return list(entries.values())

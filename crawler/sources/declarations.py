"""The sources file: what to watch, validated, loaded into the store and written back out.

A sources file (YAML, or JSON, which is valid YAML) lists platforms, their documents and the
sources each document combines. ``read_declarations`` validates it and raises DeclarationError
naming the file, the platform/document and the field; ``load_declarations`` brings the catalog
in line with it; ``dump_declarations`` is the reverse, for ``policywatch sources export``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import regex
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from crawler.extract.extraction import ExtractionError, check_css

SLUG = r"^[a-z0-9][a-z0-9-]*$"
RANGE_KEYS = ({"startBefore", "startAfter"}, {"endBefore", "endAfter"})
CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class DeclarationError(Exception):
    """A sources file that cannot be used: names the file, where in it, and what is wrong."""


def parse_schedule(text: str) -> int:
    """Seconds in a schedule such as ``30m``, ``6h`` or ``1d``; ValueError when malformed."""
    match = re.fullmatch(r"\s*(\d+)\s*([smhdw])\s*", str(text))
    if not match or int(match[1]) == 0:
        raise ValueError(f"schedule {text!r} is not a positive duration such as 30m, 6h or 1d")
    return int(match[1]) * UNITS[match[2]]


def format_schedule(seconds: int) -> str:
    """The shortest schedule text for ``seconds`` (inverse of parse_schedule)."""
    for unit, size in sorted(UNITS.items(), key=lambda item: -item[1]):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _check_selector(value: Any) -> Any:
    if isinstance(value, str):
        if not value.strip():
            raise ValueError("a CSS selector must not be empty")
        _check_css(value)
        return value
    if isinstance(value, dict):
        keys = set(value)
        starts, ends = (keys & group for group in RANGE_KEYS)
        if len(starts) != 1 or len(ends) != 1 or keys - starts - ends:
            raise ValueError(
                "a range selector needs one of startBefore/startAfter and one of endBefore/endAfter, "
                f"got {sorted(keys)}"
            )
        if not all(isinstance(v, str) and v.strip() for v in value.values()):
            raise ValueError("range selector values must be CSS selectors")
        for css in value.values():
            _check_css(css)
        return value
    raise ValueError(f"a selector is a CSS string or a range object, got {type(value).__name__}")


def _check_css(css: str) -> None:
    try:
        check_css(css)
    except ExtractionError as exc:
        raise ValueError(str(exc)) from None


def _single_line(value: str) -> str:
    """``value`` if it is one line: names and titles go into email subjects, where a line break
    would start a new header."""
    if CONTROL.search(value):
        raise ValueError("must be one line: line breaks and other control characters are not allowed")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class SourceDecl(_Strict):
    """One page of a document."""

    url: str = Field(pattern=r"^https?://\S+$")
    select: list[str | dict] = []
    remove: list[str | dict] = []
    fetcher: Literal["http", "browser"] = "http"
    robots: bool = True

    @field_validator("select", "remove", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        return [value] if isinstance(value, (str, dict)) else value

    @field_validator("select", "remove")
    @classmethod
    def _selectors(cls, value: list) -> list:
        return [_check_selector(item) for item in value]


class DocumentDecl(_Strict):
    """One policy: either one page (url, select…) or several pages in order (sources)."""

    slug: str = Field(pattern=SLUG, max_length=120)
    title: str = Field(min_length=1, max_length=300)
    type: str = Field(min_length=1, max_length=120)
    schedule: str | None = None
    ignore: list[str] = []
    sources: list[SourceDecl] = []

    @model_validator(mode="before")
    @classmethod
    def _single_source(cls, data: Any) -> Any:
        if isinstance(data, dict) and "url" in data:
            data = dict(data)
            if data.get("sources"):
                raise ValueError("give either url (one page) or sources (several pages), not both")
            page = {
                key: data.pop(key) for key in ("url", "select", "remove", "fetcher", "robots") if key in data
            }
            data["sources"] = [page]
        return data

    @field_validator("title", "type")
    @classmethod
    def _one_line(cls, value: str) -> str:
        return _single_line(value)

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str | None) -> str | None:
        if value is not None:
            parse_schedule(value)
        return value

    @field_validator("ignore")
    @classmethod
    def _patterns(cls, value: list[str]) -> list[str]:
        for pattern in value:
            try:
                regex.compile(pattern)  # the engine the crawl applies them with
            except regex.error as exc:
                raise ValueError(
                    f"ignore pattern {pattern!r} is not a valid regular expression: {exc}"
                ) from None
        return value

    @model_validator(mode="after")
    def _some_source(self) -> DocumentDecl:
        if not self.sources:
            raise ValueError("a document needs a url or a list of sources")
        return self


class AnnouncementDecl(_Strict):
    """A newsroom of a platform: a listing page, feed or sitemap whose posts are each watched as a
    document; ``follow`` says which links are posts (else automatic rules), ``select`` a post's content,
    ``schedule`` how often the listing is read."""

    slug: str = Field(pattern=SLUG, max_length=80)
    listing: str = Field(pattern=r"^https?://\S+$")
    follow: str | None = None
    select: list[str | dict] = []
    schedule: str | None = None

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str | None) -> str | None:
        if value is not None:
            parse_schedule(value)
        return value

    @field_validator("follow")
    @classmethod
    def _follow(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"follow {value!r} is not a valid regular expression: {exc}") from None
        return value

    @field_validator("select", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        return [value] if isinstance(value, (str, dict)) else value

    @field_validator("select")
    @classmethod
    def _selectors(cls, value: list) -> list:
        return [_check_selector(item) for item in value]


class PlatformDecl(_Strict):
    """A vendor, the documents watched for it and its announcement sources."""

    slug: str = Field(pattern=SLUG, max_length=80)
    name: str = Field(min_length=1, max_length=200)
    documents: list[DocumentDecl] = []
    announcements: list[AnnouncementDecl] = []

    @field_validator("name")
    @classmethod
    def _one_line(cls, value: str) -> str:
        return _single_line(value)


class SourcesFile(_Strict):
    """A whole sources file."""

    platforms: list[PlatformDecl]

    @model_validator(mode="after")
    def _unique_slugs(self) -> SourcesFile:
        for kind, slugs in (
            ("platform", [p.slug for p in self.platforms]),
            ("document", [d.slug for p in self.platforms for d in p.documents]),
            ("announcement source", [a.slug for p in self.platforms for a in p.announcements]),
        ):
            seen = set()
            for slug in slugs:
                if slug in seen:
                    raise ValueError(f"{kind} slug {slug!r} is declared twice")
                seen.add(slug)
        return self


def read_declarations(path: str | Path) -> SourcesFile:
    """The validated sources file at ``path``; DeclarationError names file, place and field."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise DeclarationError(f"{path}: cannot read: {exc}") from None
    except yaml.YAMLError as exc:
        raise DeclarationError(f"{path}: not valid YAML: {exc}") from None
    return parse_declarations(data, str(path))


def parse_declarations(data: Any, origin: str) -> SourcesFile:
    """Validate already-parsed data; ``origin`` names it in errors."""
    try:
        return SourcesFile.model_validate(data)
    except ValidationError as exc:
        raise DeclarationError(
            "\n".join(f"{origin}: {_where(data, error['loc'])}: {error['msg']}" for error in exc.errors())
        ) from None


def _where(data: Any, loc: tuple) -> str:
    """``platform acme, document acme-aup, sources[0].url`` from a pydantic error location."""
    parts: list[str] = []
    node, keys = data, list(loc)
    while keys:
        key = keys.pop(0)
        listed = key in ("platforms", "documents", "announcements")
        if listed and keys and isinstance(keys[0], int) and isinstance(node, dict):
            index = keys.pop(0)
            items = node.get(key) or []
            node = items[index] if index < len(items) else {}
            slug = node.get("slug") if isinstance(node, dict) else None
            parts.append(f"{key.removesuffix('s')} {slug or f'#{index + 1}'}")
            continue
        if (
            key == "sources"
            and isinstance(node, dict)
            and "sources" not in node
            and keys
            and isinstance(keys[0], int)
        ):
            keys.pop(0)  # a one-page document declares its source's fields on the document itself
            continue
        if isinstance(key, int) and parts:
            parts[-1] += f"[{key}]"
        elif isinstance(key, str) and isinstance(node, dict) and key in node:
            parts.append(key if not parts or " " in parts[-1] else f"{parts.pop()}.{key}")
        node = node[key] if isinstance(node, (dict, list)) and _has(node, key) else None
    return ", ".join(parts) or "top level"


def _has(node: dict | list, key: Any) -> bool:
    return key in node if isinstance(node, dict) else isinstance(key, int) and key < len(node)


def dump_yaml(data: dict) -> str:
    """Sources-file data as YAML, keys in declaration order."""
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120)

"""Extraction: a fetched page (HTML or PDF) becomes the region a declaration selects, with a cheap
digest now and its clean, normalised Markdown on demand.

``select_region`` parses the body once with lxml, refuses pages that are not the document (bot
challenges, interstitials, error pages served with 200), applies the declaration's ``remove`` then
``select`` items (CSS selectors or OTA range selectors; an empty ``select`` means automatic
main-content extraction) and digests the region. ``Region.markdown()`` converts only when asked,
so a pipeline that already holds a version with the same digest converts nothing.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from cssselect import SelectorError
from lxml import etree, html
from lxml.cssselect import CSSSelector, LxmlHTMLTranslator
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom, resolve_encoding

from crawler.extract.hashing import digest_region
from crawler.extract.layout import unwrap_layout_tables
from crawler.extract.main_content import main_content
from crawler.extract.normalize import normalize_markdown
from crawler.extract.pdf import is_pdf, pdf_text
from crawler.extract.visibility import prune
from crawler.extract.word_boundaries import separate_boxes
from crawler.fetch import blocked
from crawler.sources import ranges
from policywatch.verdicts import Failure, FailureKind

__all__ = ["ExtractionError", "Region", "normalize_markdown", "page_encoding", "select_region"]

Selector = str | dict


class ExtractionError(Exception):
    """The page holds no usable document; ``failure`` says why (a bare reason is an empty selection)."""

    def __init__(self, failure: Failure | str) -> None:
        if isinstance(failure, str):
            failure = Failure(FailureKind.EMPTY_SELECTION, failure)
        super().__init__(failure.detail)
        self.failure = failure

    @property
    def reason(self) -> str:
        """Why, in a few words."""
        return self.failure.detail


@dataclass(frozen=True)
class Region:
    """The part of a page that is the document: its digest, and its Markdown computed lazily."""

    digest: str
    _render: Callable[[], str] = field(repr=False, compare=False)

    def markdown(self) -> str:
        """The region's clean, normalised Markdown (converted once, on first call)."""
        return self._markdown

    @functools.cached_property
    def _markdown(self) -> str:
        return self._render()


def select_region(
    body: bytes, *, url: str, content_type: str | None, select: list[Selector], remove: list[Selector]
) -> Region:
    """The region of ``body`` that ``select`` and ``remove`` declare; ExtractionError if there is none."""
    if is_pdf(body, content_type):
        return _pdf_region(body)
    refused = not_a_document(body, content_type)
    if refused:
        raise ExtractionError(refused)
    doc = _parse(body, url, content_type)
    reason = blocked.title_reason(doc)
    if reason:
        raise ExtractionError(reason)
    try:
        for selector in remove:
            _remove(doc, selector)
        roots = _select(doc, select)
    except ExtractionError as exc:
        raise ExtractionError(blocked.short_page_reason(doc, body) or exc.failure) from None
    for root in roots:
        prune(root)
        unwrap_layout_tables(root)
        separate_boxes(root)
    found = digest_region(roots)
    if len(found.text) <= blocked.SHORT_PAGE:
        reason = blocked.short_text_reason(found.text) or blocked.short_page_reason(doc, body)
        if reason:
            raise ExtractionError(reason)
    if not found.text:
        raise ExtractionError("extraction is empty" if select else "no main content found")

    return Region(found.digest, lambda: _markdown(roots))


#: Media types that are never a policy page, whatever the bytes look like.
NOT_DOCUMENT_TYPES = ("image/", "audio/", "video/", "font/", "model/")


def not_a_document(body: bytes, content_type: str | None) -> Failure | None:
    """Why ``body`` (not a PDF) is no HTML document, or None: an empty body, a media type such as
    ``image/png``, or binary bytes (a NUL in the first kilobyte) served as anything but text."""
    media = (content_type or "").split(";")[0].strip().lower()
    if not body.strip():
        return Failure(FailureKind.ERROR_PAGE, "empty body: the server answered with no content")
    if media.startswith(NOT_DOCUMENT_TYPES) or (b"\x00" in body[:1024] and not media.startswith("text/")):
        return Failure(
            FailureKind.NOT_A_DOCUMENT, f"content type {media or 'unknown'} is not an HTML page or PDF"
        )
    return None


def _markdown(roots: list[html.HtmlElement]) -> str:
    from crawler.extract.markdown import (
        to_markdown,
    )  # imported on the first conversion: most crawls convert nothing

    return to_markdown(roots)


def _parse(body: bytes, url: str, content_type: str | None) -> html.HtmlElement:
    try:
        doc = html.document_fromstring(body, parser=_parser(page_encoding(body, content_type)), base_url=url)
    except (etree.ParserError, ValueError) as exc:
        raise ExtractionError(f"body is not parseable HTML ({exc})") from None
    if doc.find("body") is None and not len(doc):
        raise ExtractionError("body is not parseable HTML (no elements)")
    return doc


def page_encoding(body: bytes, content_type: str | None) -> str:
    """The body's encoding as a browser finds it (the HTML standard's sniffing): byte order mark,
    then HTTP header, then ``<meta>``; a page that declares none is UTF-8 when its bytes are valid
    UTF-8, else windows-1252 (the standard's default for undeclared pages in most locales)."""
    bom, _ = read_bom(body)
    declared = bom or http_content_type_encoding(content_type) or html_body_declared_encoding(body)
    return resolve_encoding(declared or _undeclared_encoding(body)) or "utf-8"


def _undeclared_encoding(body: bytes) -> str:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


@functools.cache
def _parser(encoding: str) -> html.HTMLParser:
    return html.HTMLParser(encoding=encoding, remove_comments=True, remove_pis=True)


def _pdf_region(body: bytes) -> Region:
    try:
        text = normalize_markdown(pdf_text(body))
    except ValueError as exc:
        raise ExtractionError(str(exc)) from None
    if not text:
        raise ExtractionError("PDF has no text layer")
    return Region(hashlib.sha256(text.encode()).hexdigest(), lambda: text)


def _remove(doc: html.HtmlElement, selector: Selector) -> None:
    if ranges.is_range(selector):
        _ranged(ranges.delete_range, doc, selector)
        return
    for element in _query(doc, selector):
        if element.getparent() is not None:
            element.drop_tree()


def _select(doc: html.HtmlElement, selectors: list[Selector]) -> list[html.HtmlElement]:
    if not selectors:
        region = main_content(doc)
        if region is None:
            raise ExtractionError("no main content found")
        return [region]
    roots: list[html.HtmlElement] = []
    for selector in selectors:
        if ranges.is_range(selector):
            part = _ranged(ranges.clone_range, doc, selector)
            if part is None:
                raise ExtractionError(f"range {selector!r} is empty")
            roots.append(part)
            continue
        matches = _outermost(_query(doc, selector))
        if not matches:
            raise ExtractionError(f"selector {selector!r} matched nothing")
        roots.extend(matches)
    return roots


def _ranged(operation, doc: html.HtmlElement, selector: dict):
    try:
        return operation(doc, selector, lambda css: _query(doc, css))
    except ranges.RangeError as exc:
        raise ExtractionError(str(exc)) from None


def _query(doc: html.HtmlElement, css: str) -> list[html.HtmlElement]:
    return _compiled(css)(doc)


class _Translator(LxmlHTMLTranslator):
    """cssselect's HTML translation, with a plain substring test put before the exact class-token
    test: libxml2 stops at the first false ``and``, and the token test is slow on long class lists."""

    def xpath_attrib_includes(self, xpath, name, value):  # noqa: D102 - cssselect's hook
        if value and not any(space in value for space in " \t\n\r\f"):
            xpath.add_condition(
                f"{name} and contains({name}, {self.xpath_literal(value)}) and "
                f"contains(concat(' ', normalize-space({name}), ' '), {self.xpath_literal(f' {value} ')})"
            )
        else:
            xpath.add_condition("0")
        return xpath


def check_css(css: str) -> None:
    """Raise ExtractionError naming ``css`` when it is not a CSS selector this extraction can run."""
    _compiled(css)


@functools.lru_cache(maxsize=512)
def _compiled(css: str) -> CSSSelector:
    try:
        return CSSSelector(css, translator=_Translator())
    except SelectorError as exc:
        raise ExtractionError(f"selector {css!r} is not valid CSS ({exc})") from None


def _outermost(elements: list[html.HtmlElement]) -> list[html.HtmlElement]:
    """``elements`` without those inside another of them, so nested matches are not repeated."""
    chosen = set(elements)
    return [element for element in elements if not any(a in chosen for a in element.iterancestors())]

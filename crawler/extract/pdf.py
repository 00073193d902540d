"""PDF documents: their text layer, read with pypdf in layout mode, as paragraphs.

pypdf's default mode breaks some PDFs into one word per line; layout mode keeps the lines as
printed. Lines are then joined into paragraphs (blank lines separate them), so a change in line
wrapping is not a change of text.
"""

from __future__ import annotations

import io
import logging
import re

MAGIC = b"%PDF-"
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")

logging.getLogger("pypdf").setLevel(logging.ERROR)  # pypdf warns about every slightly malformed file


def is_pdf(body: bytes, content_type: str | None) -> bool:
    """Whether the body is a PDF, by its content type or its magic number."""
    return (
        body.lstrip()[:5] == MAGIC or (content_type or "").split(";")[0].strip().lower() == "application/pdf"
    )


def pdf_text(body: bytes) -> str:
    """The text of every page as paragraphs separated by blank lines; ValueError if the PDF is unreadable."""
    from pypdf import PdfReader  # imported when a PDF arrives: a fifth of a second off every crawl's start
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(body))
        pages = [page.extract_text(extraction_mode="layout") or "" for page in reader.pages]
    except (PyPdfError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"PDF is not readable ({exc.__class__.__name__}: {exc})") from exc
    paragraphs = (" ".join(paragraph.split()) for page in pages for paragraph in _PARAGRAPH_BREAK.split(page))
    return "\n\n".join(paragraph for paragraph in paragraphs if paragraph)

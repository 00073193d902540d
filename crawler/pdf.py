"""PDF documents: their text layer, read with pypdf, page after page."""
from __future__ import annotations

import io
import logging

from pypdf import PdfReader
from pypdf.errors import PyPdfError

MAGIC = b"%PDF-"

logging.getLogger("pypdf").setLevel(logging.ERROR)  # pypdf warns about every slightly malformed file


def is_pdf(body: bytes, content_type: str | None) -> bool:
    """Whether the body is a PDF, by its content type or its magic number."""
    return body.lstrip()[:5] == MAGIC or (content_type or "").split(";")[0].strip().lower() == "application/pdf"


def pdf_text(body: bytes) -> str:
    """The text of every page, pages separated by a blank line; ValueError if the PDF is unreadable."""
    try:
        reader = PdfReader(io.BytesIO(body))
        return "\n\n".join(page.extract_text() or "" for page in reader.pages)
    except (PyPdfError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"PDF is not readable ({exc.__class__.__name__}: {exc})") from exc

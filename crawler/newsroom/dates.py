"""Publication dates as a newsroom writes them, made ISO: machine-readable stamps keep their time
zone; words such as "Yesterday" or "3 days ago" are resolved against the crawl's time."""

from __future__ import annotations

import email.utils
import re
from datetime import datetime

#: Words that date a post relative to the day it is read.
RELATIVE = re.compile(r"\b(?:today|yesterday|ago|just now|last)\b", re.I)
#: An ISO 8601 date, optionally with a time and zone.
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$")


def iso_date(text: str | None, now: datetime) -> str | None:
    """The ISO form of a date or date-time ``text`` (relative to ``now``), or None."""
    if not text or not text.strip() or len(text) > 80:
        return None
    text = " ".join(text.split())
    if ISO.match(text):
        return _iso(datetime.fromisoformat(text.replace("Z", "+00:00")), text)
    try:
        return email.utils.parsedate_to_datetime(text).isoformat()  # RFC 822, as feeds write it
    except (TypeError, ValueError, IndexError):
        pass
    import dateparser

    settings = {
        "RELATIVE_BASE": now.replace(tzinfo=None),
        "RETURN_AS_TIMEZONE_AWARE": False,
        "PREFER_DATES_FROM": "past",
        "STRICT_PARSING": False,
    }
    found = dateparser.parse(text, languages=["en"], settings=settings)  # type: ignore[arg-type]
    if found is None or not re.search(r"\d|today|yesterday", text, re.I):
        return None
    if RELATIVE.search(text) or (found.tzinfo is None and found.hour == found.minute == found.second == 0):
        return found.date().isoformat()
    return found.isoformat()


def _iso(moment: datetime, text: str) -> str:
    """A date alone stays a date; a time keeps its zone."""
    if len(text) == 10:
        return moment.date().isoformat()
    return moment.isoformat()


#: A date written out in running text: "16 January 2025", "Mar 3, 2025", "2025-03-03", "3 days ago".
WRITTEN = re.compile(
    r"\b(?:\d{1,2}\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?,?\s+\d{4}"
    r"|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}"
    r"|\d{4}-\d{2}-\d{2}|\d+\s+(?:minute|hour|day|week)s?\s+ago|today|yesterday)\b",
    re.I,
)


def written_date(text: str, now: datetime) -> str | None:
    """The ISO form of the first date written out in ``text``, or None."""
    match = WRITTEN.search(text or "")
    return iso_date(match[0], now) if match else None

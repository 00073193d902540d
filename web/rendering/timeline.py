"""The governance timeline: changes per month, stacked by significance, drawn as inline SVG with a
platform's announcements marked at their month and labelled by title, and the provision changes
listed as labelled events ("Government carve-out reworded")."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import Request

from changes.provisions import catalog_for
from policywatch.verdicts import Significance

HEIGHT, GAP, WIDTH, LABEL = 80, 4, 720, 56  # LABEL: room one month label needs
AXIS, ROW, CHAR = 24, 14, 6.0  # room of the month labels, of one announcement row, of a label character
MARKS, TITLE = 8, 80  # announcements marked (the newest), characters of a label


@dataclass(frozen=True)
class Bar:
    """One month's stacked bar: its label, x position and (significance, count, y, height) segments."""

    month: str
    x: float
    total: int
    segments: list[tuple[str, int, float, float]]
    label: str


@dataclass(frozen=True)
class Mark:
    """One announcement on the chart: on its own row below the axis, at the middle of its month's
    bar, labelled by its title."""

    x: float
    y: float
    day: str
    title: str
    label: str
    document: str


@dataclass(frozen=True)
class Chart:
    """Bars, announcement marks, the chart's size and its busiest month, ready for the ``timeline``
    macro; ``view_width`` and ``view_height`` make room for the marks and their labels."""

    bars: list[Bar]
    width: float
    height: int
    peak: int
    bar_width: float
    marks: list[Mark]
    view_width: float
    view_height: float


def timeline_chart(months: dict[str, dict[str, int]], posts: Sequence[dict] = ()) -> Chart | None:
    """A chart of ``months`` ("YYYY-MM" -> counts by significance), with empty months filled in, and
    the newest ``MARKS`` of ``posts`` (announcements with ``day``, ``title`` and ``document``) marked
    at their month; None if both are empty."""
    posted = sorted(posts, key=lambda post: post["day"], reverse=True)[:MARKS]
    spanned = [*months, *(post["day"][:7] for post in posted)]
    if not spanned:
        return None
    labels = _month_range(min(spanned), max(spanned))
    peak = max((sum(counts.values()) for counts in months.values()), default=0) or 1
    bar = min(max(WIDTH / len(labels) - GAP, 3.0), 40.0)
    every = max(1, -(-len(labels) * LABEL // int(len(labels) * (bar + GAP))))  # one label per LABEL pixels
    bars = []
    for i, month in enumerate(labels):
        counts, y, segments = months.get(month, {}), float(HEIGHT), []
        for significance in Significance.values():
            count = counts.get(significance, 0)
            if count:
                height = max(HEIGHT * count / peak, 1.0)
                y -= height
                segments.append((significance, count, round(y, 1), round(height, 1)))
        bars.append(
            Bar(month, round(i * (bar + GAP), 1), sum(counts.values()), segments, "" if i % every else month)
        )
    middle = {b.month: round(b.x + bar / 2, 1) for b in bars}
    marks = [_mark(post, middle[post["day"][:7]], HEIGHT + AXIS + ROW * i) for i, post in enumerate(posted)]
    width = round(len(bars) * (bar + GAP), 1)
    view_width = round(max([width + 50, *(mark.x + 8 + CHAR * len(mark.label) for mark in marks)]), 1)
    view_height = HEIGHT + AXIS + ROW * len(marks)
    return Chart(bars, width, HEIGHT, peak, round(bar, 1), marks, view_width, view_height)


def _mark(post: dict, x: float, y: float) -> Mark:
    """The mark of announcement ``post`` at (``x``, ``y``), its title shortened to ``TITLE``."""
    title = post["title"] or post["url"]
    label = title if len(title) <= TITLE else title[: TITLE - 1] + "…"
    return Mark(x, y, post["day"], title, label, post["document"])


def _month_range(first: str, last: str) -> list[str]:
    year, month = map(int, first.split("-"))
    labels = []
    while f"{year:04d}-{month:02d}" <= last:
        labels.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return labels


def provision_event_labels(request: Request, events: list[dict]) -> list[dict]:
    """Each provision change event with one label per provision: "<label> added", "removed" (its
    clauses appeared or disappeared) or "reworded"."""
    catalog = catalog_for(request.app.state.settings)
    labelled = []
    for event in events:
        labels = []
        for provision, before, after in event["provisions"]:
            kind = catalog.get(provision)
            name = kind.label if kind else provision
            status = "added" if not before else "removed" if not after else "reworded"
            labels.append({"provision": provision, "text": f"{name} {status}"})
        labelled.append({**event, "labels": labels})
    return labelled

"""The governance timeline: changes per month, stacked by significance, drawn as inline SVG, and the
provision changes listed as labelled events ("Government carve-out reworded")."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from changes.provisions import catalog_for
from policywatch.verdicts import Significance

HEIGHT, GAP, WIDTH, LABEL = 80, 4, 720, 56  # LABEL: room one month label needs


@dataclass(frozen=True)
class Bar:
    """One month's stacked bar: its label, x position and (significance, count, y, height) segments."""

    month: str
    x: float
    total: int
    segments: list[tuple[str, int, float, float]]
    label: str


@dataclass(frozen=True)
class Chart:
    """Bars, the chart's size and its busiest month, ready for ``_timeline.html``."""

    bars: list[Bar]
    width: float
    height: int
    peak: int
    bar_width: float


def timeline_chart(months: dict[str, dict[str, int]]) -> Chart | None:
    """A chart of ``months`` ("YYYY-MM" -> counts by significance), with empty months filled in;
    None if empty."""
    if not months:
        return None
    labels = _month_range(min(months), max(months))
    peak = max(sum(counts.values()) for counts in months.values()) or 1
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
    return Chart(bars, round(len(bars) * (bar + GAP), 1), HEIGHT, peak, round(bar, 1))


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

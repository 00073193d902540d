"""Job functions for scheduler tests: each run is recorded, so tests see what fired and how often."""

from __future__ import annotations

RUNS: list[str] = []


def tick() -> None:
    RUNS.append("tick")


def crawled() -> bool:
    RUNS.append("crawl")
    return True


def alerted() -> None:
    RUNS.append("alerts")

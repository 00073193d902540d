"""Flapping: differences that only return to what a recent version said, or leave again.

Pages flap: cookie banners, A/B variants and error pages come and go. Given the texts of the
versions just before the parent (bounded by the caller to a recent window), a difference is
explained when an added sentence was present in one of them and a removed sentence was absent
from one of them. A change whose differences are all explained is flapping; a revert after a long
stable period is not, because the old state is no longer in the window.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from changes.meaning import key, text_keys
from changes.significance import Differences


@dataclass
class Flapping:
    """What recent history explains of a change: the differences left, and why the rest is noise."""

    left: Differences
    reasons: list[str]
    returns_to: int | None  # how many versions back the new text was already seen, if it was


def explain(diff: Differences, new_text: str, recent: Sequence[str]) -> Flapping:
    """Split ``diff`` into what ``recent`` (older first, parent excluded) explains and what it does not."""
    if not recent:
        return Flapping(diff, [], None)
    states = [text_keys(text) for text in recent]
    new_keys = text_keys(new_text)
    returns_to = next(
        (len(states) - i + 1 for i in range(len(states) - 1, -1, -1) if states[i] == new_keys), None
    )

    def came_back(sentence: str) -> bool:
        return any(key(sentence) in state for state in states)

    def went_again(sentence: str) -> bool:
        return any(key(sentence) not in state for state in states)

    left = Differences(
        added=[s for s in diff.added if not came_back(s)],
        removed=[s for s in diff.removed if not went_again(s)],
        changed=[(b, a) for b, a in diff.changed if not (came_back(a) and went_again(b))],
        moved=diff.moved,
    )
    explained = (
        (len(diff.added) - len(left.added))
        + (len(diff.removed) - len(left.removed))
        + (len(diff.changed) - len(left.changed))
    )
    reasons = []
    if returns_to is not None and not left:
        reasons.append(f"content returns to a state seen {returns_to} versions ago (flapping)")
    elif explained:
        reasons.append(
            f"{explained} sentence{'s' * (explained > 1)} came back or went away again "
            f"within the last {len(recent) + 1} versions (flapping)"
        )
    return Flapping(left, reasons, returns_to)

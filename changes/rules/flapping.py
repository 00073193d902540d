"""Flapping: differences that only return to what a recent version said, or leave again.

Pages flap: cookie banners, A/B variants and error pages come and go. Given the texts of the
versions just before the parent (bounded by the caller to a recent window), a difference is
explained when an added sentence was present in one of them and a removed sentence was absent
from one of them. A change whose differences are all explained is flapping; a revert after a long
stable period is not, because the old state is no longer in the window.
"""

from __future__ import annotations

from changes.meaning import key, text_keys
from changes.rules.base import Context, Differences, Rule, plural
from changes.rules.whole import is_error_page


class Flapping(Rule):
    """Differences explained by the recent versions (error pages among them left out): cosmetic."""

    name = "flapping"

    def apply(self, context: Context) -> list[str]:
        recent = [r for r in context.recent if not is_error_page(r, context.parent)]
        if not recent:
            return []
        diff = context.left
        states = [text_keys(text) for text in recent]
        new_keys = text_keys(context.text)
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
        )
        explained = (
            (len(diff.added) - len(left.added))
            + (len(diff.removed) - len(left.removed))
            + (len(diff.changed) - len(left.changed))
        )
        context.left = left
        reasons = []
        if returns_to is not None and not left:
            reasons.append(f"content returns to a state seen {returns_to} versions ago (flapping)")
        elif explained:
            reasons.append(
                f"{plural(explained, 'sentence')} came back or went away again "
                f"within the last {len(recent) + 1} versions (flapping)"
            )
        context.flapping = bool(reasons)
        return reasons

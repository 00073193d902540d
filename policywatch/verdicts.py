"""The domain's verdicts as data: how significant a change is, and why a fetch failed.

A leaf like ``policywatch.settings``: every layer may import it, it imports nothing of the project.
Front ends compare these values, never the words of a reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum


class Significance(StrEnum):
    """How much a change matters, in increasing order: only ``minor`` and up is alerted on."""

    COSMETIC = "cosmetic"
    MINOR = "minor"
    SUBSTANTIVE = "substantive"

    @property
    def rank(self) -> int:
        """0 for cosmetic, 1 for minor, 2 for substantive."""
        return _ORDER.index(self)

    def at_least(self, floor: Significance | str) -> bool:
        """Whether this significance is ``floor`` or more."""
        return self.rank >= Significance(floor).rank

    @classmethod
    def values(cls) -> tuple[str, ...]:
        """The spellings, least significant first (for CLI choices and API patterns)."""
        return tuple(member.value for member in _ORDER)

    @classmethod
    def pattern(cls) -> str:
        """A regular expression that matches one spelling exactly (for form and query validation)."""
        return "^(" + "|".join(cls.values()) + ")$"

    @classmethod
    def at_or_above(cls, floor: Significance | str) -> tuple[Significance, ...]:
        """The significances that are ``floor`` or more, for ``IN`` filters."""
        return tuple(member for member in _ORDER if member.at_least(floor))


_ORDER = (Significance.COSMETIC, Significance.MINOR, Significance.SUBSTANTIVE)

#: HTTP statuses Open Terms Archive treats as likely transient (server error, gateway, overload).
TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})


class FailureKind(StrEnum):
    """Why a fetch gave no usable page."""

    NETWORK = "network"
    HTTP_STATUS = "http_status"
    ROBOTS = "robots"
    LOGIN_WALL = "login_wall"
    BOT_CHALLENGE = "bot_challenge"
    ERROR_PAGE = "error_page"
    EMPTY_SELECTION = "empty_selection"
    SHRANK = "shrank"
    NOT_A_DOCUMENT = "not_a_document"
    #: an ignore pattern of the document took too long over its text (catastrophic backtracking)
    SLOW_PATTERN = "slow_pattern"
    TOO_LARGE = "too_large"
    #: the URL or a redirect hop points at an internal address the operator did not allow
    REFUSED_ADDRESS = "refused_address"
    INTERNAL = "internal"


#: Kinds that usually clear up by themselves (Open Terms Archive's "may be transient"): the network,
#: and pages a server or its bot protection serves in place of the document now and then.
_TRANSIENT_KINDS = frozenset({FailureKind.NETWORK, FailureKind.BOT_CHALLENGE, FailureKind.ERROR_PAGE})


@dataclass(frozen=True)
class Failure:
    """A failed fetch: its kind, the reason in words, and the HTTP status when there was one."""

    kind: FailureKind
    detail: str
    status: int | None = None

    @property
    def transient(self) -> bool:
        """Whether the failure is likely to clear up on the next crawl without anyone acting."""
        if self.kind is FailureKind.HTTP_STATUS:
            return self.status in TRANSIENT_STATUSES
        return self.kind in _TRANSIENT_KINDS

    def __str__(self) -> str:
        return self.detail


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds a Retry-After header asks to wait (seconds or an HTTP date, never negative), or None."""
    if not value or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds()
        except (TypeError, ValueError):
            return None
    return max(0.0, seconds) if math.isfinite(seconds) else None

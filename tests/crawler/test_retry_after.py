"""Retry-After as the crawler and the email sender read it: seconds or an HTTP date."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from policywatch.verdicts import retry_after_seconds


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("120", 120.0), (" 0.2 ", 0.2), ("-5", 0.0), ("soon", None), ("", None), (None, None)],
)
def test_seconds_are_read_and_garbage_is_none(header, seconds):
    assert retry_after_seconds(header) == seconds


def test_an_http_date_is_the_wait_until_then():
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=90), usegmt=True)
    assert 80 < retry_after_seconds(later) <= 90

"""Fixtures of the alerts tests: a migrated database and the fake SendGrid server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from policywatch import settings
from store.db import make_engine
from tests.alerts import fake_sendgrid


@pytest.fixture
def db(migrated_url) -> Iterator[Engine]:
    """An engine on a migrated database (SQLite, and PostgreSQL when configured)."""
    engine = make_engine(migrated_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sendgrid(monkeypatch) -> Iterator[fake_sendgrid.FakeSendGrid]:
    """The fake SendGrid server, with the settings pointing the sendgrid backend at it."""
    server = fake_sendgrid.start()
    for name, value in {
        "EMAIL_BACKEND": "sendgrid",
        "SENDGRID_API_KEY": fake_sendgrid.API_KEY,
        "SENDGRID_API_HOST": server.url,
        "EMAIL_RETRY_BASE": "0.01",
        "EMAIL_TIMEOUT": "10",
        "EMAIL_FROM": "policywatch <alerts@policywatch.test>",
        "BASE_URL": "https://policywatch.test",
    }.items():
        monkeypatch.setenv(f"POLICYWATCH_{name}", value)
    settings.get_settings.cache_clear()
    yield server.state
    server.state.release()
    server.shutdown()
    server.server_close()

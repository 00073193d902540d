"""Web fixtures: one migrated database per module (SQLite, and PostgreSQL when configured) holding a
small history the read-only tests share; tests that write get their own (``fresh_client``)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from policywatch.settings import get_settings
from store.db import make_engine, transaction
from store.migrate import upgrade
from tests.conftest import DATABASES, _fresh_pg_database
from tests.web.site import build_site
from web.app import create_app


def _site_engine(url: str):
    upgrade(url)
    engine = make_engine(url)
    with transaction(engine) as session:
        engine.site = build_site(session)
    return engine


@pytest.fixture(scope="module", params=DATABASES)
def site_engine(request, tmp_path_factory):
    """An engine on a migrated database holding the test history (see tests/web/site.py)."""
    url = (
        f"sqlite:///{tmp_path_factory.mktemp('web') / 'site.db'}"
        if request.param == "sqlite"
        else _fresh_pg_database()
    )
    engine = _site_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def site(site_engine):
    return site_engine.site


@pytest.fixture
def client(site_engine) -> TestClient:
    """A test client of the app on the shared test history (tests using it must not write)."""
    with TestClient(create_app(get_settings(), site_engine)) as client:
        yield client


@pytest.fixture
def fresh_engine(migrated_url):
    """An engine on a database of this test's own, holding the test history."""
    engine = _site_engine(migrated_url)
    yield engine
    engine.dispose()


@pytest.fixture
def fresh_client(fresh_engine) -> TestClient:
    """A test client on a database of this test's own (for tests that write)."""
    with TestClient(create_app(get_settings(), fresh_engine)) as client:
        yield client

"""Shared fixtures: databases (SQLite always, PostgreSQL when POLICYWATCH_TEST_DATABASE_URL is set)."""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from store.db import make_engine
from store.models import Base

PG_URL = os.environ.get("POLICYWATCH_TEST_DATABASE_URL")
DATABASES = ["sqlite"] + (["postgresql"] if PG_URL else [])


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path, monkeypatch):
    """Every test gets its own data folder and reads settings afresh; of the internal networks, only
    127.0.0.1, where the tests' local servers listen, may be fetched."""
    from policywatch import settings

    for name in list(os.environ):
        if name.startswith("POLICYWATCH_") and name != "POLICYWATCH_TEST_DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.setenv("POLICYWATCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("POLICYWATCH_ALLOWED_NETWORKS", "127.0.0.1/32")
    settings.get_settings.cache_clear()
    yield
    settings.get_settings.cache_clear()


@pytest.fixture(autouse=True)
def _no_name_lookups(monkeypatch):
    """Sources loaded in tests resolve addresses only, never names (tests never touch the internet):
    ``127.1`` or ``2852039166`` still resolve, ``acme.test`` is left to fail when fetched."""
    import socket

    from crawler.sources import addresses

    monkeypatch.setattr(
        addresses, "resolve", functools.partial(addresses.resolve, flags=socket.AI_NUMERICHOST)
    )


def _fresh_pg_database() -> str:
    """A new, empty PostgreSQL database for one test; dropped at the end of the session."""
    url = make_url(PG_URL)
    name = f"pwtest_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    _CREATED.append(name)
    return url.set(database=name).render_as_string(hide_password=False)


_CREATED: list[str] = []


def pytest_sessionfinish(session, exitstatus):
    if not (PG_URL and _CREATED):
        return
    admin = create_engine(make_url(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for name in _CREATED:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=DATABASES)
def database_url(request, tmp_path) -> str:
    """The URL of an empty database: a SQLite file, and a fresh PostgreSQL database when configured."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    return _fresh_pg_database()


@pytest.fixture
def engine(database_url) -> Iterator[Engine]:
    """An engine on an empty database with the whole schema created from the models."""
    engine = make_engine(database_url)
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def migrated_url(database_url, monkeypatch) -> str:
    """A database brought to the head revision by the migrations, and set as the database in force."""
    from store.migrate import upgrade

    upgrade(database_url)
    monkeypatch.setenv("POLICYWATCH_DATABASE_URL", database_url)
    return database_url

"""The migrations build exactly the schema the models describe, and can be undone and redone."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from store.db import StoreError, check_schema, current_revision, head_revision, make_engine
from store.migrate import downgrade, upgrade
from store.models import Base


def test_models_and_migrations_agree(database_url):
    upgrade(database_url)
    engine = make_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == []


def test_upgrade_downgrade_upgrade(database_url):
    engine = make_engine(database_url)
    upgrade(database_url)
    assert current_revision(engine) == head_revision()
    downgrade(database_url, "base")
    assert current_revision(engine) is None
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(database_url)
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_check_schema_refuses_a_database_that_is_behind(database_url):
    engine = make_engine(database_url)
    try:
        check_schema(engine)
    except StoreError as exc:
        assert "policywatch db upgrade" in str(exc)
    else:
        raise AssertionError("an empty database passed the schema check")
    upgrade(database_url)
    check_schema(engine)
    engine.dispose()

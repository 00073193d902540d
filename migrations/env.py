"""Alembic environment: runs the revisions against the URL policywatch passes in (batch mode on SQLite)."""

from alembic import context

from store.db import make_engine
from store.migrate import job_queue, read_side
from store.models import Base
from store.models.base import UTCDateTime

config = context.config


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is None:
        engine = make_engine(config.get_main_option("sqlalchemy.url"))
        with engine.connect() as connection:
            _run(connection)
        engine.dispose()
    else:
        _run(connectable)


def _render_item(kind, obj, autogen_context):
    """Revisions spell UTC timestamps as plain ``sa.DateTime(timezone=True)``: no model imports."""
    if kind == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Leave out of autogenerate what no model has: the read-side search of revisions 0002, 0003,
    0005 and 0006 (FTS5 tables, PostgreSQL's stored search vector and its GIN index, change time index) and
    APScheduler's job table, which `policywatch serve` creates and owns, and the job queue's tables
    (revision 0012), which Procrastinate's schema defines."""
    search_index = read_side(name) or job_queue(name)
    scheduler_jobs = bool(name) and name.startswith(("apscheduler_jobs", "ix_apscheduler_jobs"))
    return not (reflected and compare_to is None and (search_index or scheduler_jobs))


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
        include_object=_include_object,
        on_version_apply=config.attributes.get("on_version_apply", ()),
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()

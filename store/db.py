"""Engines, sessions and the schema check every data command runs first."""

from __future__ import annotations

import contextlib
import functools
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import CursorResult, Engine, UpdateBase, create_engine, event, inspect, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

import migrations

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(migrations.__file__).parent
#: Tries of a batch's later updates before giving up (each lost to a deadlock or a busy database).
UPDATE_ATTEMPTS = 5
#: PostgreSQL's SQLSTATEs for a transaction that lost to another writer: deadlock detected, lock
#: not available, serialization failure.
CONTENTION_STATES = frozenset({"40P01", "55P03", "40001"})
_REVISION = re.compile(r"^(down_revision|revision)\s*=\s*['\"]?([\w]+|None)['\"]?", re.MULTILINE)


class StoreError(Exception):
    """The database cannot be used as it is: one line says why and what to do."""


def make_engine(url: str, pool_size: int = 5) -> Engine:
    """An engine for ``url`` keeping up to ``pool_size`` connections open; SQLite gets WAL, foreign
    keys and a busy timeout for concurrent writers."""
    if url.startswith("sqlite"):
        _ensure_sqlite_folder(url)
        engine = create_engine(url, connect_args={"timeout": 60}, pool_size=pool_size)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    # No server-side prepared statements: psycopg prepares a statement run five times, and forgets
    # every prepared one at each ROLLBACK (each web request's end, each failed page's savepoint),
    # so they were prepared over and over; kept, they would get generic plans, which do badly for a
    # search (its best plan depends on the words).
    return create_engine(
        url, pool_pre_ping=True, pool_size=pool_size, connect_args={"prepare_threshold": None}
    )


def _ensure_sqlite_folder(url: str) -> None:
    path = url.split("///", 1)[-1]
    if path and path != ":memory:" and not path.startswith("file:"):
        folder = Path(path).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot use {folder} as the database's folder: {exc.strerror} "
                "(set POLICYWATCH_DATA_DIR or POLICYWATCH_DATABASE_URL to a folder policywatch may write)"
            ) from None


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None  # let SQLAlchemy's "begin" event issue BEGIN itself
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin_immediate(connection) -> None:
    # Take the write lock at BEGIN, so two writers queue on busy_timeout instead of failing to upgrade.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def affected_rows(session: Session, statement: UpdateBase) -> int:
    """How many rows an UPDATE or DELETE without RETURNING changed."""
    # Session.execute returns a CursorResult for these statements; its signature promises only a Result.
    return cast(CursorResult[Any], session.execute(statement)).rowcount


def contended(error: OperationalError) -> bool:
    """Whether ``error`` says another writer held what this one needed (a deadlock on PostgreSQL, a
    database still locked after the busy timeout on SQLite), rather than an unusable database."""
    if getattr(error.orig, "sqlstate", None) in CONTENTION_STATES:
        return True
    return "database is locked" in str(error.orig)


def error_line(error: OperationalError) -> str:
    """The database's own words for ``error``, in one line, without the SQL or its parameters; for
    the error that caused it when it arose while handling another (a savepoint that a full disk's
    rollback took with it)."""
    while isinstance(error.__context__, OperationalError):
        error = error.__context__
    return f"{type(error.orig).__name__}: {str(error.orig).strip().splitlines()[0]}"


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to ``engine`` that keep loaded objects usable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


@contextlib.contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """A session whose work commits on success and rolls back on any error: all or nothing."""
    with session_factory(engine)() as session, session.begin():
        yield session


class Batch:
    """One session whose transactions are shared by many small units of work, each in its own
    savepoint (a failing unit rolls back alone), committed every ``size`` units or once ``seconds``
    have passed: one commit per batch instead of one per unit. Rows a unit gives to
    ``insert_at_commit`` are inserted together when the batch commits (one statement for many, not
    one per unit), and dropped with the unit if it fails. A unit that needs no savepoint (nothing it
    writes can fail half-way) is ``later``: its row joins the inserts and its update of one row is
    applied just after the commit, in a short transaction of its own.
    Objects loaded stay usable across commits; ``close`` commits the last batch and ends the session."""

    def __init__(self, engine: Engine, size: int, seconds: float) -> None:
        self.session, self.size, self.seconds = session_factory(engine)(), size, seconds
        self.units = 0
        self.started: float | None = None
        self.inserts: list = []
        self.updates: list[tuple[type, dict]] = []

    @contextlib.contextmanager
    def unit(self) -> Iterator[Session]:
        """A savepoint in the open batch (beginning one if needed); commits the batch when it is due."""
        self._begin()
        queued = len(self.inserts)
        try:
            with self.session.begin_nested():
                yield self.session
        except BaseException:
            del self.inserts[queued:]
            raise
        self._counted()

    def later(self, row, model: type, values: dict) -> None:
        """A unit without savepoint: insert ``row`` with the batch's commit, then update the ``model``
        row whose primary key ``values`` holds. Kept out of the batch's transaction, the update
        never waits for a lock while the batch holds others (two crawls of the same sources would
        each wait for the other), and a deadlock or a busy database costs a retry, not the batch."""
        self._begin()
        self.inserts.append(row)
        self.updates.append((model, values))
        self._counted()

    def insert_at_commit(self, row) -> None:
        """Insert ``row`` (a new mapped object) when the batch commits, if the current unit succeeds."""
        self.inserts.append(row)

    def commit_if_due(self) -> None:
        """Commit the open batch if it is older than ``seconds``."""
        if self.started is not None and time.monotonic() - self.started >= self.seconds:
            self.commit()

    def commit(self) -> None:
        """Commit the open batch, if any, then apply its units' later updates."""
        if self.started is not None:
            self.started = None
            rows, self.inserts = self.inserts, []
            updates, self.updates = self.updates, []
            try:
                self.session.add_all(rows)
                self.session.commit()
            except Exception:
                self.session.rollback()
                raise
            if updates:
                self._update(updates)

    def abandon(self) -> None:
        """Roll the open batch back, its queued inserts and later updates with it (after an error
        the database may have rolled the transaction back already: SQLite does on a full disk)."""
        self.started, self.inserts, self.updates = None, [], []
        self.session.rollback()

    def close(self) -> None:
        """Commit the open batch and end the session (ended even when the commit fails)."""
        try:
            self.commit()
        finally:
            self.session.close()

    def _begin(self) -> None:
        if self.started is None:
            self.units, self.started = 0, time.monotonic()
            self.session.begin()

    def _counted(self) -> None:
        self.units += 1
        if self.units >= self.size:
            self.commit()

    def _update(self, updates: list[tuple[type, dict]]) -> None:
        """Apply ``updates`` by primary key, each table's rows in key order (two writers then lock
        them in the same order), retrying a transaction that lost to a deadlock or a lock."""
        by_model: dict[type, list[dict]] = {}
        for model, values in updates:
            by_model.setdefault(model, []).append(values)
        for attempt in range(1, UPDATE_ATTEMPTS + 1):
            try:
                with self.session.begin():
                    for model, rows in by_model.items():
                        self.session.execute(update(model), sorted(rows, key=lambda row: row["id"]))
                return
            except OperationalError:
                if attempt == UPDATE_ATTEMPTS:
                    raise
                time.sleep(0.05 * attempt)


def alembic_config(url: str) -> Config:
    """Alembic configuration for ``url`` pointing at the bundled migrations."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@functools.cache
def head_revision() -> str:
    """The schema revision this code needs: the one no revision names as its parent.

    Read from the revision files' headers rather than through Alembic, which every command would
    otherwise import at start-up (tests check both agree)."""
    revisions, parents = set(), set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        fields = dict(_REVISION.findall(path.read_text(encoding="utf-8")))
        if "revision" in fields:
            revisions.add(fields["revision"])
            parents.add(fields.get("down_revision"))
    (head,) = revisions - parents
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return None
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except OperationalError as exc:
        raise StoreError(
            f"database unreachable at {engine.url.render_as_string(hide_password=True)}: {exc.orig}"
        ) from None


def check_schema(engine: Engine) -> None:
    """Raise StoreError unless the database is at the head revision."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        where = f"at revision {current}" if current else "empty"
        raise StoreError(
            f"database schema is behind (it is {where}, this policywatch needs {head}): "
            "run `policywatch db upgrade`"
        )

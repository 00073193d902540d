"""Named leases with expiry: at most one holder per name at a time, taken over only once expired.

Every function takes ``now`` so callers (and tests) decide the clock. Acquiring is one conditional
UPDATE (or an INSERT for a new name), so two processes racing for a lease cannot both win.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

from sqlalchemy import case, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from store.db import affected_rows
from store.models import Lease


def acquire_lease(session: Session, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Take or renew lease ``name`` for ``holder`` until ``now + ttl``; False while another holder's
    lease has not expired."""
    taken = affected_rows(
        session,
        update(Lease)
        .where(Lease.name == name, or_(Lease.holder == holder, Lease.expires_at <= now))
        .values(
            holder=holder,
            expires_at=now + ttl,
            acquired_at=case((Lease.holder == holder, Lease.acquired_at), else_=now),
        )
        .execution_options(synchronize_session=False),
    )
    if taken:
        return True
    if session.get(Lease, name) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(Lease(name=name, holder=holder, acquired_at=now, expires_at=now + ttl))
    except IntegrityError:  # another process created it first
        return False
    return True


def release_lease(session: Session, name: str, holder: str) -> bool:
    """Give lease ``name`` up if ``holder`` holds it; whether it did."""
    return bool(affected_rows(session, delete(Lease).where(Lease.name == name, Lease.holder == holder)))


def lease_holder(session: Session, name: str, now: datetime) -> Lease | None:
    """The lease ``name`` while it is unexpired, else None."""
    return session.scalar(select(Lease).where(Lease.name == name, Lease.expires_at > now))


def acquire_leases(
    session: Session,
    names: list[str],
    holder: str,
    now: datetime,
    ttl: timedelta,
    gone: Callable[[str], bool] = lambda holder: False,
) -> set[str]:
    """Take every lease of ``names`` that is free, expired or held by a holder that is ``gone``
    (a process known dead), for ``holder`` until ``now + ttl``; the names taken. Two processes
    racing for a name cannot both take it: the insert of a free name is guarded by its key."""
    for chunk in _chunks(names):
        held = session.scalars(select(Lease).where(Lease.name.in_(chunk))).all()
        stale = [lease.name for lease in held if lease.expires_at <= now or gone(lease.holder)]
        if stale:
            session.execute(
                delete(Lease).where(Lease.name.in_(stale)).execution_options(synchronize_session=False)
            )
        free = sorted(set(chunk) - {lease.name for lease in held if lease.name not in stale})
        rows = [dict(name=name, holder=holder, acquired_at=now, expires_at=now + ttl) for name in free]
        if not rows:
            continue
        try:
            with session.begin_nested():
                session.execute(insert(Lease), rows)
        except IntegrityError:  # another process took some meanwhile: take the others one by one
            for row in rows:
                try:
                    with session.begin_nested():
                        session.execute(insert(Lease), [row])
                except IntegrityError:
                    continue
    return {
        name
        for chunk in _chunks(names)
        for name in session.scalars(select(Lease.name).where(Lease.name.in_(chunk), Lease.holder == holder))
    }


def release_leases(session: Session, holder: str) -> int:
    """Give up every lease ``holder`` holds; how many."""
    return affected_rows(session, delete(Lease).where(Lease.holder == holder))


def _chunks(names: list[str], size: int = 500) -> Iterator[list[str]]:
    for start in range(0, len(names), size):
        yield names[start : start + size]

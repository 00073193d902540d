"""Leadership: one active scheduler per database, held through a renewed lease with expiry."""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta

from sqlalchemy import Engine

from store.db import transaction
from store.leases import acquire_lease, lease_holder, release_lease
from store.models import utcnow

LEASE = "scheduler"


def holder_id() -> str:
    """Who this process is, as shown by `policywatch status`: host, pid and a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def holder_gone(holder: str) -> bool:
    """Whether ``holder`` (a ``holder_id``) names a process of this host that no longer runs."""
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


class Leader:
    """Takes and renews the scheduler lease for this process; ``ttl`` bounds how long a dead leader
    keeps the others on standby."""

    def __init__(self, engine: Engine, ttl: timedelta, holder: str | None = None):
        self.engine = engine
        self.ttl = ttl
        self.holder = holder or holder_id()

    def hold(self, now: datetime | None = None) -> bool:
        """Take or renew the lease; whether this process leads until ``now + ttl``."""
        with transaction(self.engine) as session:
            return acquire_lease(session, LEASE, self.holder, now or utcnow(), self.ttl)

    def release(self) -> None:
        """Give the lease up, so a standby takes over at once instead of after expiry."""
        with transaction(self.engine) as session:
            release_lease(session, LEASE, self.holder)

    def holder_now(self) -> str | None:
        """Who holds the lease now, if anyone."""
        with transaction(self.engine) as session:
            lease = lease_holder(session, LEASE, utcnow())
            return lease.holder if lease else None

"""The scheduler lease: one holder at a time, renewed by its holder, taken over only after expiry."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from policywatch.usecases.leader import LEASE, Leader
from store.db import transaction
from store.leases import acquire_lease, lease_holder, release_lease

T0 = datetime(2026, 5, 18, 10, 0, tzinfo=UTC)
TTL = timedelta(seconds=30)


def test_a_second_holder_waits_until_the_lease_expires(engine):
    with transaction(engine) as session:
        assert acquire_lease(session, "scheduler", "a", T0, TTL)
    with transaction(engine) as session:
        assert not acquire_lease(session, "scheduler", "b", T0 + timedelta(seconds=29), TTL)
        assert lease_holder(session, "scheduler", T0 + timedelta(seconds=29)).holder == "a"
    with transaction(engine) as session:
        assert acquire_lease(session, "scheduler", "b", T0 + timedelta(seconds=30), TTL)
    with transaction(engine) as session:
        lease = lease_holder(session, "scheduler", T0 + timedelta(seconds=31))
        assert (lease.holder, lease.acquired_at) == ("b", T0 + timedelta(seconds=30))
        assert not acquire_lease(session, "scheduler", "a", T0 + timedelta(seconds=31), TTL)


def test_renewing_extends_the_lease_and_keeps_when_it_was_acquired(engine):
    with transaction(engine) as session:
        acquire_lease(session, "scheduler", "a", T0, TTL)
    for seconds in (10, 20, 30, 40):
        with transaction(engine) as session:
            assert acquire_lease(session, "scheduler", "a", T0 + timedelta(seconds=seconds), TTL)
    with transaction(engine) as session:
        assert not acquire_lease(session, "scheduler", "b", T0 + timedelta(seconds=69), TTL)
        lease = lease_holder(session, "scheduler", T0 + timedelta(seconds=69))
        assert (lease.acquired_at, lease.expires_at) == (T0, T0 + timedelta(seconds=70))


def test_releasing_hands_over_at_once_and_only_the_holder_can_release(engine):
    with transaction(engine) as session:
        acquire_lease(session, "scheduler", "a", T0, TTL)
        assert not release_lease(session, "scheduler", "b")
    with transaction(engine) as session:
        assert release_lease(session, "scheduler", "a")
        assert lease_holder(session, "scheduler", T0) is None
    with transaction(engine) as session:
        assert acquire_lease(session, "scheduler", "b", T0 + timedelta(seconds=1), TTL)


def test_racing_standbys_elect_exactly_one_leader(engine):
    start, wins = threading.Barrier(6), []

    def contend(name: str) -> None:
        start.wait()
        if Leader(engine, TTL, holder=name).hold():
            wins.append(name)

    threads = [threading.Thread(target=contend, args=(f"standby-{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(wins) == 1
    with transaction(engine) as session:
        assert lease_holder(session, LEASE, datetime.now(UTC)).holder == wins[0]


def test_a_standby_leads_once_the_leader_stops_renewing(engine):
    leader, standby = Leader(engine, TTL, holder="leader"), Leader(engine, TTL, holder="standby")
    assert leader.hold(T0)
    assert not standby.hold(T0 + timedelta(seconds=10))
    assert leader.hold(T0 + timedelta(seconds=20))  # renewed: the standby keeps waiting
    assert not standby.hold(T0 + timedelta(seconds=45))
    assert standby.hold(T0 + timedelta(seconds=50))  # the leader died after its last renewal
    assert not leader.hold(T0 + timedelta(seconds=55))  # and cannot come back as a second leader

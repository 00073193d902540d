"""``policywatch web --workers N``: worker processes sharing one port's connections evenly, refusing
a port in use, stopping together."""

from __future__ import annotations

import gc
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from policywatch.settings import get_settings
from tests.web.serving import free_port, start_web, wait_until_healthy
from web.app import create_app


@pytest.fixture
def supervisor(migrated_url):
    """``policywatch web --workers 2`` on a free port of an empty database, answering; killed at the end."""
    port = free_port()
    process = start_web(port, "--workers", "2")
    process.port = port
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}")
        yield process
    finally:
        process.kill()
        process.wait(timeout=30)


def children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def gone(pids: list[int], seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while any(Path(f"/proc/{pid}").exists() for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not any(Path(f"/proc/{pid}").exists() for pid in pids)


@pytest.mark.slow
def test_workers_serve_one_port_refuse_a_second_server_and_stop_together(supervisor):
    workers = children(supervisor.pid)
    assert len(workers) == 2
    second = start_web(supervisor.port)
    _, err = second.communicate(timeout=60)
    assert second.returncode != 0 and f"cannot listen on 127.0.0.1:{supervisor.port}" in err
    with httpx.Client(base_url=f"http://127.0.0.1:{supervisor.port}") as client:
        assert all(client.get("/healthz").status_code == 200 for _ in range(5))
    supervisor.send_signal(signal.SIGTERM)
    assert supervisor.wait(timeout=30) == 0
    assert gone(workers)


def connections_held(pid: int, port: int) -> int:
    """How many established TCP connections to ``port`` the process ``pid`` holds."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == "01":  # local port, ESTABLISHED
            inodes.add(fields[9])
    fds = Path(f"/proc/{pid}/fd")
    return sum(
        1 for fd in fds.iterdir() if os.readlink(fd).removeprefix("socket:[").removesuffix("]") in inodes
    )


@pytest.mark.slow
def test_connections_are_dealt_to_the_workers_in_turn(supervisor):
    clients = [socket.create_connection(("127.0.0.1", supervisor.port)) for _ in range(20)]
    try:
        for client in clients:  # every connection is served, wherever it went
            client.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
            assert client.recv(64).startswith(b"HTTP/1.1 200")
        assert sorted(connections_held(worker, supervisor.port) for worker in children(supervisor.pid)) == [
            10,
            10,
        ]
    finally:
        for client in clients:
            client.close()


@pytest.mark.slow
def test_workers_stop_when_the_supervisor_is_killed(supervisor):
    workers = children(supervisor.pid)
    supervisor.kill()
    supervisor.wait(timeout=30)
    assert gone(workers)


@pytest.mark.slow
def test_workers_that_cannot_start_stop_the_server_with_their_reason(migrated_url, monkeypatch):
    monkeypatch.setenv(
        "POLICYWATCH_DATA_DIR", "/proc/policywatch"
    )  # the app's secret key cannot be kept there
    server = start_web(free_port(), "--workers", "2")
    _, err = server.communicate(timeout=60)
    assert server.returncode == 1
    assert "/proc/policywatch" in err and "exited while starting" in err


@pytest.mark.slow
@pytest.mark.skipif(
    not shutil.which("unshare") or os.geteuid() != 0, reason="needs unshare(1) and root for a PID namespace"
)
def test_workers_serve_when_the_supervisor_is_pid_1_as_in_a_container(migrated_url):
    port = free_port()
    process = subprocess.Popen(
        [
            "unshare",
            "--pid",
            "--fork",
            "--kill-child",
            "--mount-proc",
            sys.executable,
            "-m",
            "policywatch",
            "web",
            "--port",
            str(port),
            "--workers",
            "2",
        ],
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}")
    finally:
        process.kill()
        process.wait(timeout=30)


def test_a_started_app_keeps_what_it_made_at_startup_out_of_full_collections(site_engine):
    gc.unfreeze()
    app = create_app(get_settings(), site_engine)
    assert gc.get_freeze_count() == 0
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        assert (
            gc.get_freeze_count() > 100_000
        )  # modules, the app, its templates: a full pass would walk them all
    gc.unfreeze()


@pytest.mark.slow
def test_a_worker_that_dies_while_serving_is_replaced_and_a_crash_loop_gives_up(supervisor):
    base = f"http://127.0.0.1:{supervisor.port}"
    first = children(supervisor.pid)
    os.kill(first[0], signal.SIGKILL)
    deadline = time.monotonic() + 30
    while (
        len(children(supervisor.pid)) < 2 or first[0] in children(supervisor.pid)
    ) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(children(supervisor.pid)) == 2 and first[0] not in children(supervisor.pid)
    with httpx.Client(base_url=base) as client:
        assert all(client.get("/healthz").status_code == 200 for _ in range(4))

    for _ in range(10):  # keep killing workers: restarts wait longer each time, then the server stops
        for worker in children(supervisor.pid):
            os.kill(worker, signal.SIGKILL)
        if supervisor.poll() is not None:
            break
        time.sleep(1)
    _, err = supervisor.communicate(timeout=60)
    assert supervisor.returncode == 1 and "died 5 times within 60 s" in err

"""``policywatch web --workers N``: worker processes sharing one port, refusing a port in use, stopping together."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from store.migrate import upgrade
from tests.web.test_browser import free_port


def web(port: int, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "policywatch", "web", "--port", str(port), *args],
                            env=os.environ.copy(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_healthy(base: str) -> None:
    for _ in range(300):
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError("policywatch web did not come up")


def children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def gone(pids: list[int], seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while any(Path(f"/proc/{pid}").exists() for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not any(Path(f"/proc/{pid}").exists() for pid in pids)


def test_workers_serve_one_port_refuse_a_second_server_and_stop_together(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'web.db'}"
    upgrade(url)
    monkeypatch.setenv("POLICYWATCH_DATABASE_URL", url)
    port = free_port()
    supervisor = web(port, "--workers", "2")
    try:
        wait_healthy(f"http://127.0.0.1:{port}")
        workers = children(supervisor.pid)
        assert len(workers) == 2
        second = web(port)
        _, err = second.communicate(timeout=60)
        assert second.returncode != 0 and f"cannot listen on 127.0.0.1:{port}" in err
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            assert all(client.get("/healthz").status_code == 200 for _ in range(5))
        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(timeout=30) == 0
        assert gone(workers)
    finally:
        supervisor.kill()


def test_workers_stop_when_the_supervisor_is_killed(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'web.db'}"
    upgrade(url)
    monkeypatch.setenv("POLICYWATCH_DATABASE_URL", url)
    port = free_port()
    supervisor = web(port, "--workers", "2")
    try:
        wait_healthy(f"http://127.0.0.1:{port}")
        workers = children(supervisor.pid)
    finally:
        supervisor.kill()
        supervisor.wait(timeout=30)
    assert gone(workers)

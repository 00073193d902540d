"""Running ``policywatch web`` as a real process for the tests that need one: a free port, the
command, and waiting until it answers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx


def free_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_web(port: int, *args: str, output: int = subprocess.PIPE) -> subprocess.Popen:
    """``policywatch web --port PORT ARGS`` with this process's environment."""
    return subprocess.Popen(
        [sys.executable, "-m", "policywatch", "web", "--port", str(port), *args],
        env=os.environ.copy(),
        stdout=output,
        stderr=output,
        text=True,
    )


def wait_until_healthy(base: str) -> None:
    """Return once ``base``/healthz answers 200; AssertionError after about 30 seconds."""
    for _ in range(300):
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError(f"policywatch web did not come up at {base}")

"""Serving the web app with uvicorn: in this process, or in worker processes that each listen on a
socket of their own, bound to the same port with ``SO_REUSEPORT``, so the kernel spreads new
connections evenly over them. (uvicorn's own workers share one socket: the first one awake accepts a
whole burst of connections, and kept-alive clients then stay on it while the others idle.)

The workers share their page cache through a folder (``POLICYWATCH_WEB_CACHE_DIR``, else a
temporary one for the server's lifetime), so a page one worker rendered is a hit in the others.
The supervisor forwards SIGINT and SIGTERM to its workers, restarts a worker that dies while the
others serve, and stops (exit status 1) when a worker dies within ``STARTUP_SECONDS`` of starting,
which is a fault no restart mends (the app cannot be built, say). Workers stop when the
supervisor dies, however it dies.
"""
from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import socket
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator
from pathlib import Path

import uvicorn

from policywatch.settings import Settings, get_settings

APP = "web.app:create_app"
STARTUP_SECONDS = 5.0
LOG_LEVEL = "warning"
PR_SET_PDEATHSIG = 1  # prctl(2)

log = logging.getLogger("policywatch.web")


def serve(host: str, port: int, workers: int) -> int:
    """Serve the web app on ``host:port`` (see ``free_port``) with ``workers`` processes until told to
    stop; the exit status."""
    if workers == 1 or not hasattr(socket, "SO_REUSEPORT"):
        uvicorn.run(APP, factory=True, host=host, port=port, workers=workers, log_level=LOG_LEVEL)
        return 0
    settings = get_settings()
    with _cache_folder(settings) as folder:
        return _Supervisor(host, port, settings.model_copy(update={"web_cache_dir": folder})).run(workers)


@contextlib.contextmanager
def _cache_folder(settings: Settings) -> Iterator[Path]:
    """The folder the workers share pages through: the setting, else a temporary one."""
    if settings.web_cache_dir:
        yield settings.web_cache_dir
        return
    with tempfile.TemporaryDirectory(prefix="policywatch-web-cache-") as folder:
        yield Path(folder)


def free_port(host: str, port: int) -> int:
    """``port`` (or a free one for 0) once a plain bind shows nothing listens on it, else OSError
    saying so: sockets with ``SO_REUSEPORT`` would otherwise join another server's, and two
    versions would share the traffic."""
    with _socket(host) as sock:
        _bind(sock, host, port)
        return sock.getsockname()[1]


class _Supervisor:
    def __init__(self, host: str, port: int, settings: Settings) -> None:
        self.host, self.port, self.settings = host, port, settings
        self.children: dict[int, float] = {}  # pid -> start time
        self.stopping = False

    def run(self, workers: int) -> int:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._stop)
        for _ in range(workers):
            self._spawn()
        status = 0
        while self.children:
            try:
                pid, status_word = os.wait()
            except ChildProcessError:
                break
            except InterruptedError:
                continue
            code = os.waitstatus_to_exitcode(status_word)  # negative: killed by that signal
            started = self.children.pop(pid, None)
            if started is None or self.stopping:
                continue
            if time.monotonic() - started < STARTUP_SECONDS:
                log.error("web worker %d exited while starting (status %d); stopping", pid, code)
                status = 1
                self._stop(signal.SIGTERM, None)
            else:
                log.warning("web worker %d died (status %d); starting another", pid, code)
                self._spawn()
        return status

    def _spawn(self) -> None:
        supervisor = os.getpid()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                _stop_with_parent(supervisor)
                sock = _socket(self.host)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
                _bind(sock, self.host, self.port)
                sock.listen(2048)
                from web.app import create_app

                uvicorn.Server(uvicorn.Config(create_app(settings=self.settings), log_level=LOG_LEVEL)).run(sockets=[sock])
                code = 0
            except BaseException:
                traceback.print_exc()  # os._exit below would swallow it
            finally:
                os._exit(code)
        self.children[pid] = time.monotonic()

    def _stop(self, signum, _frame) -> None:
        self.stopping = True
        for pid in self.children:
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass


def _stop_with_parent(supervisor: int) -> None:
    """Have the kernel send this worker SIGTERM when the supervisor dies, even by SIGKILL (Linux)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != supervisor:  # it died before the request was made (it may be PID 1 in a container)
            os._exit(0)


def _socket(host: str) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    return sock


def _bind(sock: socket.socket, host: str, port: int) -> None:
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise OSError(f"cannot listen on {host}:{port}: {exc.strerror}") from None

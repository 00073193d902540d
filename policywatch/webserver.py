"""Serving the web app with uvicorn: in this process, or in worker processes to which a supervisor
deals the connections it accepts, one worker after the other, passing each socket over a Unix
socket pair. A kept-alive connection stays with its worker, and a worker answers one analyst page
at a time (``web.middleware.turns``), so uneven shares would make some clients wait for others: uvicorn's own
workers share one socket, where the first one awake accepts a whole burst of connections
(Kludex/uvicorn-worker#34), and sockets bound with ``SO_REUSEPORT`` (encode/uvicorn#2472) are chosen
by a hash of the client's address and port, which splits a handful of clients unevenly.

Forwarded headers (X-Forwarded-For, X-Forwarded-Proto) are believed only from the proxies named by
``POLICYWATCH_TRUSTED_PROXIES`` (uvicorn's ``proxy_headers`` and ``forwarded_allow_ips``); by default
from none, so a client cannot pose as another address (the subscribe rate limit counts per address).
The workers share their page cache through a folder (``POLICYWATCH_WEB_CACHE_DIR``, else a
temporary one for the server's lifetime), so a page one worker rendered is a hit in the others.
The supervisor forwards SIGINT and SIGTERM to its workers and restarts a worker that dies while the
others serve, waiting longer after each death (``RESTART_BACKOFF`` doubled, at most
``RESTART_BACKOFF_MAX``); it stops with exit status 1 when workers died ``RESTARTS_ALLOWED`` times within
``RESTART_WINDOW`` seconds (the app cannot be built, say), each death logged with whether the worker
had said it was ready. Workers stop when the supervisor dies, however it dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import signal
import socket
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn

from policywatch.settings import Settings, get_settings

APP = "policywatch.webserver:app"
RESTART_BACKOFF = 0.5  # seconds before the first restart; doubled for each death in the window
RESTART_BACKOFF_MAX = 10.0
RESTART_WINDOW = 60.0
RESTARTS_ALLOWED = 5
READY = b"ready"
LOG_LEVEL = "warning"
PR_SET_PDEATHSIG = 1  # prctl(2)

log = logging.getLogger("policywatch.web")


def app(settings: Settings | None = None):
    """The web app of one serving process (uvicorn's factory): its runtime's engine, and the
    operator actions as use cases on that runtime."""
    from policywatch.runtime import Runtime
    from policywatch.usecases.operator import OperatorActions
    from store.db import make_engine
    from web.app import create_app

    settings = settings or get_settings()
    runtime = Runtime(settings, make_engine(settings.database, pool_size=2 * settings.web_threads))
    return create_app(settings, runtime.engine, operator_actions=OperatorActions(runtime))


def serve(host: str, port: int, workers: int) -> int:
    """Serve the web app on ``host:port`` (see ``free_port``) with ``workers`` processes until told to
    stop; the exit status."""
    settings = get_settings()
    if workers == 1 or not hasattr(socket, "send_fds"):
        uvicorn.run(
            APP,
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=LOG_LEVEL,
            **forwarded_options(settings),
        )
        return 0
    with _cache_folder(settings) as folder:
        return _Supervisor(host, port, settings.model_copy(update={"web_cache_dir": folder})).run(workers)


def forwarded_options(settings: Settings) -> dict:
    """uvicorn's options for forwarded headers: believed from the trusted proxies alone, if any."""
    proxies = settings.proxies
    return {"proxy_headers": bool(proxies), "forwarded_allow_ips": proxies}


@contextlib.contextmanager
def _cache_folder(settings: Settings) -> Iterator[Path]:
    """The folder the workers share pages through: the setting, else a temporary one."""
    if settings.web_cache_dir:
        yield settings.web_cache_dir
        return
    with tempfile.TemporaryDirectory(prefix="policywatch-web-cache-") as folder:
        yield Path(folder)


def free_port(host: str, port: int) -> int:
    """``port`` (or a free one for 0) once a bind shows nothing listens on it, else OSError saying
    so, before any worker starts."""
    with _socket(host) as sock:
        _bind(sock, host, port)
        return sock.getsockname()[1]


@dataclass(frozen=True)
class _Worker:
    inbox: socket.socket  # the supervisor's end of the pair the worker's connections go through
    ready: threading.Event = field(default_factory=threading.Event)  # set when it says it serves

    def await_ready(self) -> None:
        """Set ``ready`` when the worker says so through its inbox (nothing if it dies first)."""
        with contextlib.suppress(OSError):
            if self.inbox.recv(len(READY)) == READY:
                self.ready.set()


class _Supervisor:
    def __init__(self, host: str, port: int, settings: Settings) -> None:
        self.host, self.port, self.settings = host, port, settings
        self.children: dict[int, _Worker] = {}
        self.inboxes: tuple[socket.socket, ...] = ()  # the children's, replaced whole when they change
        self.stopping = False
        self.stopped = threading.Event()  # set with ``stopping``, to cut a restart's wait short
        self.deaths: list[float] = []  # time.monotonic() of each worker death while serving

    def run(self, workers: int) -> int:
        self.listener = _socket(self.host)
        _bind(self.listener, self.host, self.port)
        self.listener.listen(2048)
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._stop)
        for _ in range(workers):
            self._spawn()
        threading.Thread(target=self._deal, name="deal connections", daemon=True).start()
        try:
            return self._wait()
        finally:
            self.listener.close()

    def _deal(self) -> None:
        """Accept connections and hand each to the next worker in turn (the one after, if its
        inbox fails: a worker that just died)."""
        turn = 0
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:  # the listener was closed: the server stops
                return
            with connection:
                inboxes = self.inboxes
                for step in range(len(inboxes)):
                    try:
                        socket.send_fds(inboxes[(turn + step) % len(inboxes)], [b"c"], [connection.fileno()])
                        break
                    except OSError:
                        continue
            turn += 1

    def _wait(self) -> int:
        """Wait for the workers: restart one that died serving, stop all when one dies starting."""
        status = 0
        while self.children:
            try:
                pid, status_word = os.wait()
            except ChildProcessError:
                break
            except InterruptedError:
                continue
            code = os.waitstatus_to_exitcode(status_word)  # negative: killed by that signal
            worker = self._forget(pid)
            if worker is None:
                continue
            if self.stopping:
                continue
            how = "died" if worker.ready.is_set() else "exited while starting"
            now = time.monotonic()
            self.deaths = [moment for moment in self.deaths if now - moment < RESTART_WINDOW] + [now]
            if len(self.deaths) >= RESTARTS_ALLOWED:
                message = "web worker %d %s (status %d); workers died %d times within %d s; stopping"
                log.error(message, pid, how, code, len(self.deaths), RESTART_WINDOW)
                status = 1
                self._stop(signal.SIGTERM, None)
                continue
            delay = min(RESTART_BACKOFF * 2 ** (len(self.deaths) - 1), RESTART_BACKOFF_MAX)
            log.warning("web worker %d %s (status %d); starting another in %.1f s", pid, how, code, delay)
            if not self.stopped.wait(delay):
                self._spawn()
        return status

    def _spawn(self) -> None:
        supervisor = os.getpid()
        inbox, outlet = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                _stop_with_parent(supervisor)
                for inherited in (self.listener, inbox, *self.inboxes):
                    inherited.close()
                options = forwarded_options(self.settings)
                config = uvicorn.Config(app(self.settings), log_level=LOG_LEVEL, **options)
                _DealtServer(config, outlet).run()
                code = 0
            except BaseException:
                traceback.print_exc()  # os._exit below would swallow it
            finally:
                os._exit(code)
        outlet.close()
        worker = _Worker(inbox)
        self.children[pid] = worker
        threading.Thread(target=worker.await_ready, name=f"await worker {pid}", daemon=True).start()
        self._deal_to_children()

    def _forget(self, pid: int) -> _Worker | None:
        """The worker ``pid`` that exited, no longer dealt to, its inbox closed (None if not ours)."""
        worker = self.children.pop(pid, None)
        if worker is not None:
            self._deal_to_children()
            worker.inbox.close()
        return worker

    def _deal_to_children(self) -> None:
        self.inboxes = tuple(
            w.inbox for w in self.children.values()
        )  # one assignment: the dealer reads it meanwhile

    def _stop(self, signum, _frame) -> None:
        self.stopping = True
        self.stopped.set()
        for pid in self.children:
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass


class _DealtServer(uvicorn.Server):
    """A uvicorn server answering the connections the supervisor sends through ``outlet``."""

    def __init__(self, config: uvicorn.Config, outlet: socket.socket) -> None:
        super().__init__(config)
        self.outlet = outlet

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=[])  # listens on nothing itself
        loop = asyncio.get_running_loop()
        config = self.config

        # uvicorn has no public way to serve a connection accepted elsewhere (Kludex/uvicorn-worker#34),
        # so the protocol is made as ``Server.startup`` makes it for each connection it accepts;
        # tests/web/test_workers.py::test_connections_are_dealt_to_the_workers_in_turn fails without it.
        def protocol() -> asyncio.Protocol:
            return config.http_protocol_class(  # type: ignore[call-arg]
                config=config, server_state=self.server_state, app_state=self.lifespan.state
            )

        self.outlet.setblocking(False)
        loop.add_reader(self.outlet, self._take, loop, protocol)
        self.outlet.send(READY)

    def _take(self, loop: asyncio.AbstractEventLoop, protocol: Callable[[], asyncio.Protocol]) -> None:
        """Serve every connection waiting in the outlet; stop when the supervisor has gone."""
        while True:
            try:
                message, fds, _, _ = socket.recv_fds(self.outlet, 1, 1)
            except BlockingIOError:
                return
            if not message:
                loop.remove_reader(self.outlet)
                self.should_exit = True
                return
            for fd in fds:
                loop.create_task(loop.connect_accepted_socket(protocol, socket.socket(fileno=fd)))


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

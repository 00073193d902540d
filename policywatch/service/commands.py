"""Run policywatch CLI commands as child processes, with a timeout and a graceful stop.

Each crawl runs in its own process because Scrapy's Twisted reactor cannot be restarted inside
one; a child per run also frees its memory and isolates a crash. Children run in their own process
group: on timeout or shutdown the group gets SIGTERM (Scrapy then finishes the responses in flight
and closes cleanly), and SIGKILL only after a grace period. A worker's children die with it
(``die_with_parent``): a worker killed mid-job leaves no crawl behind to race the job's retry.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger("policywatch.service")


@dataclass(frozen=True)
class Outcome:
    """How one command ended: exit code (negative = signal), whether it timed out, its output tail."""

    args: tuple[str, ...]
    returncode: int
    timed_out: bool
    output: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


class CommandRunner:
    """Starts ``policywatch <args>`` children (``program`` names the command) and can stop every
    running one."""

    def __init__(
        self,
        grace: float = 25.0,
        program: tuple[str, ...] = (sys.executable, "-m", "policywatch"),
        die_with_parent: bool = False,
    ):
        self.grace = grace
        self.program = program
        self.die_with_parent = die_with_parent
        self._running: set[subprocess.Popen] = set()
        self.stopped: list[int] = []  # pids of children stopped before they ended
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def run(self, *args: str, timeout: float) -> Outcome:
        """Run ``policywatch ARGS`` to its end or ``timeout`` seconds, then stop it gracefully."""
        if self._stopping.is_set():
            return Outcome(args, -signal.SIGTERM, False, "not started: shutting down")
        process = subprocess.Popen(
            [*self.program, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            start_new_session=True,
            preexec_fn=killed_with_parent() if self.die_with_parent else None,
        )
        with self._lock:
            self._running.add(process)
        if self._stopping.is_set():  # shutdown began while it started
            _signal_group(process, signal.SIGTERM)
        try:
            output, _ = process.communicate(timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            log.warning("policywatch %s: still running after %ss, stopping it", " ".join(args), timeout)
            output, timed_out = self._stop(process), True
        finally:
            with self._lock:
                self._running.discard(process)
        outcome = Outcome(args, process.returncode, timed_out, (output or "")[-4000:])
        level = logging.INFO if outcome.ok else logging.WARNING
        log.log(
            level,
            "policywatch %s: exit %s%s",
            " ".join(args),
            process.returncode,
            "" if outcome.ok else f"\n{outcome.output.strip()[-1500:]}",
        )
        return outcome

    def stop_all(self) -> None:
        """Refuse new children and stop the running ones: SIGTERM, then SIGKILL after the grace."""
        self._stopping.set()
        with self._lock:
            running = list(self._running)
        for process in running:
            self.stopped.append(process.pid)
            _signal_group(process, signal.SIGTERM)

    def resume(self) -> None:
        """Allow new children again after ``stop_all``."""
        self._stopping.clear()

    def _stop(self, process: subprocess.Popen) -> str:
        self.stopped.append(process.pid)
        _signal_group(process, signal.SIGTERM)
        try:
            output, _ = process.communicate(timeout=self.grace)
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            output, _ = process.communicate()
        return output

    def wait_all(self) -> None:
        """Wait for stopped children to exit, killing those still alive after the grace."""
        with self._lock:
            running = list(self._running)
        for process in running:
            try:
                process.wait(timeout=self.grace)
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait()


def killed_with_parent() -> Callable[[], None] | None:
    """What a child runs before it starts so that the kernel kills it when the thread that started
    it dies (Linux's PR_SET_PDEATHSIG), even by SIGKILL; None where that is not available."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)

    def arm() -> None:
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG

    return arm


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(process.pid, signum)
    except ProcessLookupError:
        pass

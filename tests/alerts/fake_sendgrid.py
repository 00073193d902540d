"""A fake SendGrid v3 Mail Send server on 127.0.0.1 for tests and the fan-out benchmark.

It checks the bearer key and SendGrid's personalization limits, records every request, and answers
from a script of responses (default 202 with an X-Message-Id): ``answer(429, retry_after=1)``,
``answer(500)``, ``answer(400)``; ``answer(202, delay=3)`` accepts at once and answers 3 s later
(to a client that may have stopped waiting), ``answer(202, truncated=True)`` accepts and cuts its
answer's body short, ``answer(0)`` accepts nothing and answers a line that is not HTTP.
``hold()`` makes it keep requests waiting until ``release()``; a held request whose client went
away meanwhile (a killed sender) is dropped as "abandoned", as a real provider never accepted it.

Run it alone (for the benchmark) with ``python tests/alerts/fake_sendgrid.py PORT``; then
``GET /_stats`` returns {"requests", "accepted", "personalizations"}.
"""

from __future__ import annotations

import json
import select
import socket
import sys
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

API_KEY = "SG.test-key"


@dataclass
class Received:
    """One request as the server saw it, and what it answered."""

    path: str
    headers: dict[str, str]
    body: dict
    status: int = 0
    message_id: str | None = None
    abandoned: bool = False


@dataclass(frozen=True)
class Answer:
    """One scripted answer: its status, Retry-After, delay before answering, and a cut body."""

    status: int
    retry_after: float | None = None
    delay: float = 0.0
    truncated: bool = False


@dataclass
class FakeSendGrid:
    """The server's state: its script, what it received, and the hold gate."""

    script: deque = field(default_factory=deque)
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    open_gate: threading.Event = field(default_factory=threading.Event)
    held: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(0))
    record_bodies: bool = True
    hold_from: int | None = None
    accepted_count: int = 0
    personalizations: int = 0

    def __post_init__(self) -> None:
        self.open_gate.set()

    def answer(
        self,
        status: int,
        retry_after: float | None = None,
        times: int = 1,
        delay: float = 0.0,
        truncated: bool = False,
    ) -> None:
        """Answer the next ``times`` requests with ``status`` (0: a line that is not HTTP), a
        Retry-After header, after ``delay`` seconds, or with the body cut short."""
        for _ in range(times):
            self.script.append(Answer(status, retry_after, delay, truncated))

    def hold(self, after: int = 0) -> None:
        """Answer ``after`` more requests, then keep every following one waiting until ``release()``."""
        self.hold_from = len(self.received) + after
        self.open_gate.clear()

    def release(self) -> None:
        """Let held requests get their answers, and stop holding."""
        self.hold_from = None
        self.open_gate.set()

    def wait_for_held(self, timeout: float = 30) -> bool:
        """Block until a request is being held; False on timeout."""
        return self.held.acquire(timeout=timeout)

    @property
    def accepted(self) -> list[Received]:
        """Requests answered 202 to a client that was still there."""
        return [r for r in self.received if r.status == 202 and not r.abandoned]

    def recipients(self) -> list[str]:
        """Every recipient address of every accepted request, in order (duplicates kept)."""
        return [to["email"] for r in self.accepted for p in r.body["personalizations"] for to in p["to"]]


class Handler(BaseHTTPRequestHandler):
    server: Server

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:
        state = self.server.state
        self.reply(
            200,
            {"Content-Type": "application/json"},
            json.dumps(
                {
                    "requests": len(state.received),
                    "accepted": state.accepted_count,
                    "personalizations": state.personalizations,
                }
            ).encode(),
        )

    def do_POST(self) -> None:
        state = self.server.state
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        received = Received(self.path, dict(self.headers), body if state.record_bodies else {})
        with state.lock:
            state.received.append(received)
            held = state.hold_from is not None and len(state.received) > state.hold_from
            scripted = state.script.popleft() if state.script else Answer(202)
        status, retry_after = scripted.status, scripted.retry_after
        if self.headers.get("Authorization") != f"Bearer {API_KEY}":
            status, retry_after = 401, None
        elif not _valid(body):
            status, retry_after = 400, None
        if held:
            state.held.release()
            state.open_gate.wait()
            if self.client_gone():
                received.abandoned = True
                return
        received.status = status
        headers = {"Content-Type": "application/json"}
        if status == 0:
            self.close_connection = True
            self.wfile.write(b"garbage, not HTTP\r\n\r\n")
            return
        if status == 202:
            received.message_id = headers["X-Message-Id"] = uuid.uuid4().hex[:22]
            with state.lock:
                state.accepted_count += 1
                state.personalizations += len(body.get("personalizations", []))
            time.sleep(scripted.delay)  # accepted already: a client that stops waiting changes nothing
            self.reply(202, headers, b'{"accepted": true}', truncated=scripted.truncated)
            return
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        self.reply(status, headers, json.dumps({"errors": [{"message": f"fake error {status}"}]}).encode())

    def client_gone(self) -> bool:
        readable, _, _ = select.select([self.connection], [], [], 0)
        return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""

    def reply(self, status: int, headers: dict[str, str], body: bytes, truncated: bool = False) -> None:
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2] if truncated else body)
        except OSError:  # the client stopped waiting
            pass
        self.close_connection = self.close_connection or truncated


def _valid(body: dict) -> bool:
    """SendGrid's own limits: 1 to 1000 personalizations, each address once per request."""
    addresses = [to["email"].lower() for p in body.get("personalizations", []) for to in p.get("to", [])]
    return 0 < len(body.get("personalizations", [])) <= 1000 and len(addresses) == len(set(addresses))


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int = 0, state: FakeSendGrid | None = None) -> None:
        super().__init__(("127.0.0.1", port), Handler)
        self.state = state or FakeSendGrid()

    @property
    def url(self) -> str:
        """The API host to give the sendgrid client."""
        return f"http://127.0.0.1:{self.server_address[1]}"


def start(state: FakeSendGrid | None = None) -> Server:
    """A running fake server on a free port (serving from a daemon thread)."""
    server = Server(0, state)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


if __name__ == "__main__":
    Server(int(sys.argv[1]), FakeSendGrid(record_bodies=False)).serve_forever()

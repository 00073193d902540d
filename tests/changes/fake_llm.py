"""A fake OpenAI-compatible chat-completions server on 127.0.0.1: it records every request and
answers a note naming the request's number, or, when told, an HTTP status, a body that is no note,
or nothing until the client has given up (``answer(503)``, ``answer(200, body={})``,
``answer(200, delay=2)``)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: dict | None = None
    delay: float = 0.0


@dataclass
class FakeLLM:
    """The server's state: the answer it gives and the requests it received (headers, JSON body)."""

    answer: Answer = Answer()
    received: list[tuple[dict, dict]] = field(default_factory=list)

    def tell(self, status: int = 200, body: dict | None = None, delay: float = 0.0) -> None:
        self.answer = Answer(status, body, delay)


class Handler(BaseHTTPRequestHandler):
    server: Server

    def do_POST(self) -> None:
        state = self.server.state
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        state.received.append((dict(self.headers), body))
        answer = state.answer
        time.sleep(answer.delay)
        if answer.body is not None:
            payload = answer.body
        elif answer.status == 200:
            payload = {
                "choices": [{"message": {"role": "assistant", "content": f"Note {len(state.received)}."}}]
            }
        else:
            payload = {"error": {"message": f"fake failure {answer.status}"}}
        data = json.dumps(payload).encode()
        try:
            self.send_response(answer.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped waiting

    def log_message(self, *args) -> None:
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.state = FakeLLM()

    @property
    def url(self) -> str:
        """The chat-completions endpoint."""
        return f"http://127.0.0.1:{self.server_address[1]}/v1/chat/completions"


def start() -> Server:
    """A running fake server on a free port (serving from a daemon thread)."""
    server = Server()
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server

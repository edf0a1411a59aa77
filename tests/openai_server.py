"""A small OpenAI-compatible HTTP server for tests: real sockets, programmable replies.

Each test queues the replies it wants (status, body, headers, delay); when the queue is empty the
default reply is used. Every request is recorded (path, headers, JSON body) for assertions.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # dict → JSON; str/bytes → sent as is
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (released early when the server stops)
    gate: threading.Event | None = None  # when set: answer only once it is set (or on stop)


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: Any
    at: float = 0.0  # time.monotonic() when the request arrived


def completion(content: str, *, model: str = "gpt-4o-mini-2024-07-18", usage: bool = True,
               finish_reason: str = "stop") -> dict[str, Any]:  # fmt: skip
    """A Chat Completions reply carrying ``content`` as the assistant message."""
    reply: dict[str, Any] = {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1700000000,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": finish_reason,
            }
        ],
    }
    if usage:
        reply["usage"] = {"prompt_tokens": 321, "completion_tokens": 123, "total_tokens": 444}
    return reply


def captions(count: int, marker: str = "from-server") -> str:
    """A valid caption set of ``count`` captions whose text carries ``marker``."""
    items = [
        {"text": f"Caption {i} {marker}: tracing never blocks a run.", "hashtags": ["#SigilZero"]}
        for i in range(count)
    ]
    return json.dumps({"captions": items})


class FakeOpenAI:
    def __init__(self) -> None:
        self.queue: deque[Reply] = deque()
        self.default: Reply = Reply(body=completion(captions(4)))
        self.requests: list[Recorded] = []
        self.stopping = threading.Event()
        self.arrived = threading.Event()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def push(self, *replies: Reply) -> None:
        with self._lock:
            self.queue.extend(replies)

    def _next(self, recorded: Recorded) -> Reply:
        with self._lock:
            self.requests.append(recorded)
            self.arrived.set()
            return self.queue.popleft() if self.queue else self.default

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                try:
                    body: Any = json.loads(raw)
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                headers = {k.lower(): v for k, v in self.headers.items()}
                reply = fake._next(Recorded(self.path, headers, body, time.monotonic()))
                if reply.delay and fake.stopping.wait(reply.delay):
                    self.close_connection = True
                    return
                while reply.gate is not None and not reply.gate.wait(0.05):
                    if fake.stopping.is_set():
                        self.close_connection = True
                        return
                if isinstance(reply.body, dict | list):
                    data = json.dumps(reply.body).encode()
                    content_type = "application/json"
                else:
                    data = reply.body.encode() if isinstance(reply.body, str) else reply.body or b""
                    content_type = "text/plain"
                try:
                    self.send_response(reply.status)
                    self.send_header("content-type", content_type)
                    self.send_header("content-length", str(len(data)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    self.close_connection = True

            def log_message(self, format: str, *args: Any) -> None:
                return None

        return Handler

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@contextmanager
def serve() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI()
    server.start()
    try:
        yield server
    finally:
        server.stop()

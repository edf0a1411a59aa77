"""A local stand-in for Langfuse: accepts OTLP trace exports, answers the auth check and
``GET /api/public/traces/{id}`` from what it received.

Used by the tests, the tracing benchmark and ``sigilctl smoke`` to see exactly what a run
exports, and what Langfuse would display of it (``langfuse_view``), with no network. Stdlib
``http.server`` in a daemon thread on 127.0.0.1 (port 0 picks a free port); payloads are
decoded by ``sigilctl.observability.otlp``.

Modes (``receiver.mode`` may change while it runs):
``ok`` accept and store; ``blackhole`` accept (200) but never store, so a trace is never
found; ``hang`` accept the connection, answer after ``hang_s`` or at stop; ``trickle`` answer
200 but send the body one byte every ``hang_s`` seconds; ``error`` HTTP 500 everywhere;
``unauthorized`` HTTP 401 everywhere; ``echo`` HTTP 400 whose body repeats the request's
headers (as a careless proxy would).
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

from sigilctl.observability.otlp import EXPORT_ACCEPTED, ReceivedSpan, decode_spans
from sigilctl.smoke.langfuse_view import trace_view

OTEL_TRACES_PATH = "/api/public/otel/v1/traces"
PROJECTS_PATH = "/api/public/projects"
TRACES_PATH = "/api/public/traces/"
Mode = Literal["ok", "blackhole", "hang", "trickle", "error", "unauthorized", "echo"]
PROJECTS_ANSWER = {
    "data": [
        {
            "id": "project-local",
            "name": "local receiver",
            "metadata": {},
            "organization": {"id": "org-local", "name": "local"},
        }
    ]
}


class OtlpReceiver:
    """``with OtlpReceiver() as rx: ... rx.base_url ... rx.spans``"""

    def __init__(self, mode: Mode = "ok", *, hang_s: float = 60.0) -> None:
        self.mode: Mode = mode
        self.hang_s = hang_s
        self.spans: list[ReceivedSpan] = []
        self.requests: list[tuple[str, str]] = []
        self.auth_headers: list[str] = []
        self.posts = 0
        self._lock = threading.Lock()
        self._received = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="otlp-receiver", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> OtlpReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self) -> OtlpReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def trace(self, trace_id: str) -> dict[str, Any] | None:
        """What Langfuse would display for ``trace_id`` (None: not received)."""
        with self._lock:
            return trace_view(list(self.spans), trace_id)

    def trace_ids(self) -> set[str]:
        with self._lock:
            return {s.trace_id for s in self.spans}

    def wait_for_spans(self, count: int, timeout_s: float = 5.0) -> list[ReceivedSpan]:
        """Wait until at least ``count`` spans arrived (or the timeout); return all so far."""
        with self._received:
            self._received.wait_for(lambda: len(self.spans) >= count, timeout_s)
            return list(self.spans)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return None

            def do_GET(self) -> None:
                receiver._note(self)
                if self._answered_by_mode():
                    return
                path = self.path.split("?")[0]
                if path == PROJECTS_PATH:
                    self._send(200, json.dumps(PROJECTS_ANSWER).encode(), "application/json")
                elif path.startswith(TRACES_PATH) and (
                    view := receiver.trace(path.removeprefix(TRACES_PATH))
                ):
                    self._send(200, json.dumps(view).encode(), "application/json")
                else:
                    self._send(404, b'{"message":"not found"}', "application/json")

            def do_POST(self) -> None:
                receiver._note(self)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if self._answered_by_mode():
                    return
                if self.path.split("?")[0] != OTEL_TRACES_PATH:
                    self._send(404, b"{}", "application/json")
                    return
                try:
                    spans = decode_spans(body, self.headers.get("Content-Encoding"))
                except ValueError:
                    self._send(
                        400, b'{"error":"Failed to parse OTel Protobuf Trace"}', "application/json"
                    )
                    return
                if receiver.mode != "blackhole":
                    with receiver._received:
                        receiver.spans.extend(spans)
                        receiver.posts += 1
                        receiver._received.notify_all()
                self._send(200, EXPORT_ACCEPTED, "application/x-protobuf")

            def _answered_by_mode(self) -> bool:
                if receiver.mode == "hang":
                    receiver._stopping.wait(receiver.hang_s)
                    self.close_connection = True
                    return True
                if receiver.mode == "error":
                    self._send(500, b'{"message":"internal error"}', "application/json")
                    return True
                if receiver.mode == "unauthorized":
                    self._send(401, b'{"message":"invalid credentials"}', "application/json")
                    return True
                if receiver.mode == "echo":
                    echoed = "".join(f"{k}: {v}\n" for k, v in self.headers.items())
                    self._send(400, echoed.encode(), "text/plain")
                    return True
                if receiver.mode == "trickle":
                    self._trickle()
                    return True
                return False

            def _trickle(self) -> None:
                size = 64
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(size))
                self.end_headers()
                for _ in range(size):
                    if receiver._stopping.wait(receiver.hang_s):
                        break
                    try:
                        self.wfile.write(b"\x00")
                        self.wfile.flush()
                    except OSError:
                        break
                self.close_connection = True

            def _send(self, code: int, body: bytes, content_type: str) -> None:
                self.send_response(code)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler

    def _note(self, handler: BaseHTTPRequestHandler) -> None:
        with self._lock:
            self.requests.append((handler.command, handler.path))
            self.auth_headers.append(handler.headers.get("Authorization") or "")


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (the port was bound, then released)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def main() -> None:  # pragma: no cover - a manual aid: run a receiver in the foreground
    import sys
    import time

    mode = sys.argv[1] if len(sys.argv) > 1 else "ok"
    with OtlpReceiver(mode) as receiver:  # type: ignore[arg-type]
        sys.stdout.write(f"{receiver.base_url}\n")
        sys.stdout.flush()
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":  # pragma: no cover
    main()

"""An HTTP server that answers every request with one status and the request echoed back.

Misconfigured proxies and debug servers quote the request, headers included, in their error
bodies; client libraries then put that body in their exception messages. Tests point sigilctl's
endpoints here to prove such echoes (an ``Authorization`` header, a public key header, a URL
token) never reach the screen, even in ``-v`` tracebacks.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class EchoServer:
    def __init__(self, status: int) -> None:
        self.status = status
        self.requests: list[str] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,))
        self._thread.daemon = True

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        echo = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                if length:
                    self.rfile.read(length)
                request = f"{self.command} {self.path}\n" + "".join(
                    f"{name}: {value}\n" for name, value in self.headers.items()
                )
                echo.requests.append(request)
                body = json.dumps(
                    {"error": {"message": f"rejected request:\n{request}"}, "message": request}
                ).encode()
                self.send_response(echo.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = _answer

            def log_message(self, format: str, *args: Any) -> None:
                return None

        return Handler


@contextmanager
def echo_server(status: int) -> Iterator[EchoServer]:
    server = EchoServer(status)
    server._thread.start()
    try:
        yield server
    finally:
        server._server.shutdown()
        server._server.server_close()
        server._thread.join(timeout=5)

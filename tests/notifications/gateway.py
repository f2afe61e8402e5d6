"""A fake SMS gateway for tests and the benchmark: a real HTTP server on 127.0.0.1 in a thread.

It behaves like an operator's platform: JSON POST {mobile, content, msgid}, answers
{"code": 0, "msgid": ...}; a repeated msgid (idempotency key) is acknowledged but not delivered
again. `mode` makes it answer OK, slowly, with 500, with 400, or drop the connection; `stop()` and
`start()` take it down and bring it back on the same port.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["FakeGateway"]


class FakeGateway:
    def __init__(self, port: int = 0):
        self.lock = threading.Lock()
        self.mode = "ok"  # ok | slow | 500 | 400 | drop
        self.script: list[str] = []  # modes for the next requests, one each, before `mode` applies
        self.slow_seconds = 3.0
        self.port = port or _free_port()
        self.received: list[dict] = []  # every request, in arrival order
        self.delivered: list[dict] = []  # first arrival of each msgid: what reaches the phone
        self.delivered_keys: dict[str, int] = defaultdict(int)
        self.first_request = threading.Event()
        self.on_accept = None  # called with each accepted message before the answer goes out
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/sms/send"

    def reset(self, mode: str = "ok") -> None:
        with self.lock:
            self.mode = mode
            self.script = []
            self.received.clear()
            self.delivered.clear()
            self.delivered_keys.clear()
            self.first_request.clear()
            self.on_accept = None

    def start(self) -> FakeGateway:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = {}
                key = body.get("msgid") or self.headers.get("Idempotency-Key", "")
                entry = {"key": key, "mobile": body.get("mobile", ""), "text": body.get("content", ""),
                         "at": time.time(), "auth": self.headers.get("Authorization", "")}
                with gateway.lock:
                    mode = gateway.script.pop(0) if gateway.script else gateway.mode
                    gateway.received.append(entry)
                    gateway.first_request.set()
                if mode == "drop":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if mode == "500":
                    return self._answer(500, {"code": 99, "error": "internal error"})
                if mode == "400":
                    return self._answer(400, {"code": 12, "error": "invalid mobile"})
                # Accepted: a real platform queues it for the phone once per msgid.
                with gateway.lock:
                    if key not in gateway.delivered_keys:
                        gateway.delivered.append(entry)
                    gateway.delivered_keys[key] += 1
                if mode == "slow":
                    time.sleep(gateway.slow_seconds)
                if gateway.on_accept is not None:
                    gateway.on_accept(entry)
                self._answer(200, {"code": 0, "msgid": f"gw-{key}"})

            def _answer(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (timeout) or died

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def wait_for(self, predicate, timeout: float = 30.0, what: str = "condition") -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if predicate(self):
                    return
            time.sleep(0.05)
        raise AssertionError(f"gateway: timed out waiting for {what}; received {len(self.received)}, "
                             f"delivered {len(self.delivered)}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

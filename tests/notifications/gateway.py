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
import urllib.parse
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.etree import ElementTree

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
        self.answer_format = "json"  # json | xml: how it answers
        self.journal = None  # a file every accepted message is written to (gateway process)
        self._server: ThreadingHTTPServer | None = None
        self._connections: set[socket.socket] = set()  # open client connections (kept alive)
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
            self.answer_format = "json"

    def start(self) -> FakeGateway:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # As a real server does (nginx: tcp_nodelay on): without it, a kept-alive client waits for
            # the delayed ACK (~40 ms) before the body that follows the headers arrives.
            disable_nagle_algorithm = True

            def log_message(self, *args):  # quiet
                pass

            def setup(self):
                super().setup()
                with gateway.lock:
                    gateway._connections.add(self.connection)

            def finish(self):
                with gateway.lock:
                    gateway._connections.discard(self.connection)
                super().finish()

            def do_GET(self):
                query = urllib.parse.urlsplit(self.path).query
                self._handle({k: v[0] for k, v in urllib.parse.parse_qs(query).items()}, query.encode())

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                self._handle(_parse_body(raw, self.headers.get("Content-Type", "")), raw)

            def _handle(self, body: dict, raw: bytes):
                key = body.get("msgid") or self.headers.get("Idempotency-Key", "")
                entry = {"key": key, "mobile": body.get("mobile", ""), "text": body.get("content", ""),
                         "at": time.time(), "auth": self.headers.get("Authorization", ""),
                         "peer": self.client_address[1],  # the client's port: one per TCP connection
                         "fields": body, "raw": raw, "headers": dict(self.headers), "method": self.command}
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
                    first = key not in gateway.delivered_keys
                    if first:
                        gateway.delivered.append(entry)
                    gateway.delivered_keys[key] += 1
                    if gateway.journal is not None:  # the benchmark's gateway process: what it took, one line each
                        gateway.journal.write(json.dumps({"key": key, "at": entry["at"], "first": first}) + "\n")
                        gateway.journal.flush()
                if mode == "slow":
                    time.sleep(gateway.slow_seconds)
                if gateway.on_accept is not None:
                    gateway.on_accept(entry)
                self._answer(200, {"code": 0, "msgid": f"gw-{key}"})

            def _answer(self, status: int, payload: dict) -> None:
                if gateway.answer_format == "xml":
                    content_type = "application/xml"
                    data = ("<?xml version='1.0'?><result>" + "".join(
                        f"<{k}>{v}</{k}>" for k, v in payload.items()) + "</result>").encode()
                else:
                    content_type, data = "application/json", json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
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
        """Down as a real gateway goes down: no new connections, and kept-alive ones are cut."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        with self.lock:
            connections, self._connections = list(self._connections), set()
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def wait_for(self, predicate, timeout: float = 30.0, what: str = "condition") -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if predicate(self):
                    return
            time.sleep(0.05)
        raise AssertionError(f"gateway: timed out waiting for {what}; received {len(self.received)}, "
                             f"delivered {len(self.delivered)}")


def _parse_body(raw: bytes, content_type: str) -> dict:
    """The fields of a JSON, form or XML body (what operators' platforms accept)."""
    try:
        if "x-www-form-urlencoded" in content_type:
            return {k: v[0] for k, v in urllib.parse.parse_qs(raw.decode()).items()}
        if "xml" in content_type:
            return {child.tag: child.text or "" for child in ElementTree.fromstring(raw)}
        body = json.loads(raw)
        return body if isinstance(body, dict) else {}
    except (ValueError, ElementTree.ParseError, UnicodeDecodeError):
        return {}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if __name__ == "__main__":
    # `python -m tests.notifications.gateway PORT JOURNAL`: the gateway in a process of its own (the
    # benchmark's, so that answering a thousand requests a second does not take the GIL from the writer).
    import sys

    server = FakeGateway(int(sys.argv[1]))
    server.journal = open(sys.argv[2], "a", encoding="utf-8")  # noqa: SIM115  (open for the process's life)
    server.start()
    print("ready", flush=True)
    server._thread.join()  # serves until the benchmark terminates the process

"""The production process shape on one machine, for the multi-process test and the benchmarks.

`Stack` starts the processes of deploy/Procfile — gunicorn with several workers, Celery workers,
beat, pollers — as separate OS processes against one PostgreSQL, Redis and Dovecot, keeps their
logs, and kills or stops them by pid. `SmsGateway` is a fake of the one external third party (an
HTTP SMS gateway) as a real HTTP server on loopback, which records every message it accepts, so
"nothing sent twice" can be counted at the receiving end. `ProcessWatch` samples which poller
processes hold an IMAP connection to the mail server, from the kernel's socket table.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

__all__ = ["Stack", "SmsGateway", "ImapConnectionWatch", "free_port", "database_url", "ROOT", "BIN"]

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url(settings_dict: dict) -> str:
    """A DATABASE_URL for the database Django is connected to (the pytest-django test database)."""
    s = settings_dict
    return f"postgresql://{s['USER']}:{s['PASSWORD']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@dataclass
class Proc:
    name: str
    argv: list[str]
    popen: subprocess.Popen
    log: Path
    started: float = field(default_factory=time.monotonic)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None


class Stack:
    def __init__(self, workdir: Path, env: dict[str, str]):
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.env = {**os.environ, "DJANGO_SETTINGS_MODULE": "opsdesk.settings", "PYTHONUNBUFFERED": "1", **env}
        self.procs: dict[str, Proc] = {}

    # --- the Procfile's processes ------------------------------------------------------------
    def start(self, name: str, argv: list[str], **extra_env: str) -> Proc:
        log = self.workdir / f"{name}.log"
        handle = open(log, "ab")  # noqa: SIM115  (closed when the process is reaped)
        popen = subprocess.Popen(argv, cwd=ROOT, env={**self.env, **extra_env}, stdout=handle,
                                 stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        handle.close()
        proc = Proc(name, argv, popen, log)
        self.procs[name] = proc
        return proc

    def web(self, port: int, workers: int = 3, name: str = "web") -> Proc:
        return self.start(name, [str(BIN / "gunicorn"), "opsdesk.wsgi:application", "-c", "deploy/gunicorn.conf.py",
                                 "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--access-logfile", "/dev/null"])

    def worker(self, name: str, concurrency: int = 1) -> Proc:
        return self.start(name, [str(BIN / "celery"), "-A", "opsdesk", "worker", "-n", f"{name}@%h",
                                 "--queues", "default,notifications,alerts", "--pool", "prefork",
                                 "--concurrency", str(concurrency), "--without-gossip", "--without-mingle",
                                 "--loglevel", "INFO"])

    def beat(self, name: str = "beat") -> Proc:
        return self.start(name, [str(BIN / "celery"), "-A", "opsdesk", "beat", "--loglevel", "INFO",
                                 "--schedule", str(self.workdir / "celerybeat-schedule")])

    def poller(self, name: str) -> Proc:
        return self.start(name, [sys.executable, "manage.py", "poll_alerts"])

    # --- faults and shutdown -------------------------------------------------------------------
    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Kill one process by its pid (SIGKILL: as if the machine lost it)."""
        proc = self.procs[name]
        if proc.alive():
            os.kill(proc.pid, sig)
            proc.popen.wait(timeout=30)

    def stop(self, name: str, timeout: float = 60) -> int | None:
        """SIGTERM and wait: the graceful shutdown every process promises. Returns the exit code."""
        proc = self.procs[name]
        if proc.alive():
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                return None
        return proc.popen.returncode

    def stop_all(self, timeout: float = 60) -> dict[str, int | None]:
        for proc in self.procs.values():
            if proc.alive():
                os.kill(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        codes = {}
        for name, proc in self.procs.items():
            try:
                proc.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            codes[name] = proc.popen.returncode
        return codes

    def cleanup(self) -> None:
        """Whatever is still running of what this stack started (and their children): killed."""
        for proc in self.procs.values():
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # the process group this stack created for it
            except (ProcessLookupError, PermissionError):
                pass
            try:
                proc.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass

    def tail(self, name: str, lines: int = 40) -> str:
        text = self.procs[name].log.read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def logs(self) -> str:
        return "\n".join(f"--- {name} (pid {p.pid}, exit {p.popen.returncode}) ---\n{self.tail(name)}"
                         for name, p in self.procs.items())


class _GatewayHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keeps connections alive, as operators' platforms do
    disable_nagle_algorithm = True  # as a real server does: a kept-alive client must not wait for a delayed ACK

    def do_POST(self):  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        gateway: SmsGateway = self.server.gateway  # type: ignore[attr-defined]
        if gateway.down.is_set():
            return self._answer(503, b"")
        try:
            payload = json.loads(body)
        except ValueError:
            return self._answer(400, b"")
        with gateway.lock:
            gateway.received.append({"key": self.headers.get("Idempotency-Key", ""), **payload,
                                     "at": time.time()})
        self._answer(200, b'{"result": "ok"}')

    def _answer(self, status: int, data: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):  # quiet
        pass


class SmsGateway:
    """A fake HTTP SMS gateway on loopback that remembers every message it accepted."""

    def __init__(self):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _GatewayHandler)
        self.server.gateway = self  # type: ignore[attr-defined]
        self.received: list[dict] = []
        self.lock = threading.Lock()
        self.down = threading.Event()
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/send"

    def env(self) -> dict[str, str]:
        return {"OPSDESK_SMS_BACKEND": "http", "OPSDESK_SMS_HTTP_URL": self.url}

    def keys(self) -> list[str]:
        with self.lock:
            return [m["key"] for m in self.received]

    def __enter__(self) -> SmsGateway:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.thread.is_alive():  # shutdown() would wait forever for a loop that never ran
            self.server.shutdown()
        self.server.server_close()


class ImapConnectionWatch:
    """Samples, from the kernel's socket table (`ss`), which of the given processes hold an
    established connection to the IMAP port. `max_at_once` is the most seen in one sample."""

    PID = re.compile(r"pid=(\d+)")

    def __init__(self, port: int, interval: float = 0.2):
        self.port = port
        self.interval = interval
        self.watched: set[int] = set()
        self.samples = 0
        self.max_at_once = 0
        self.holders_seen: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def connected(self) -> set[int]:
        out = subprocess.run(["ss", "-Htnp", "state", "established", f"( dport = :{self.port} )"],
                             capture_output=True, text=True, timeout=10).stdout
        return {int(pid) for pid in self.PID.findall(out)} & self.watched

    def _run(self) -> None:
        while not self._stop.is_set():
            now = self.connected()
            self.samples += 1
            self.max_at_once = max(self.max_at_once, len(now))
            self.holders_seen |= now
            self._stop.wait(self.interval)

    def __enter__(self) -> ImapConnectionWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

"""A real Prometheus Alertmanager for the tests, and the SMTP relay that carries its mail into Dovecot.

`Alertmanager` runs deploy/local/start-alertmanager.sh (Debian's prometheus-alertmanager, installed
by `make services`) in a directory and on a port of its own, and drives it through its v2 API: fire
an alert by POSTing it, resolve it by POSTing the same labels with `endsAt` in the past (what
Prometheus does; amtool cannot resolve).

`ImapRelay` is a tiny SMTP server (aiosmtpd) in the test process: every mail Alertmanager's e-mail
receiver hands it is APPENDed to a folder of the test Dovecot, so the desk reads it through the
real IMAP path (the poller), as it reads a bank's alert mailbox. `hold()` keeps accepted mail back
(a slow mail route) until `release()`.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

__all__ = ["Alertmanager", "ImapRelay", "free_port"]

ROOT = Path(__file__).resolve().parents[2]
START = ROOT / "deploy/local/start-alertmanager.sh"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rfc3339(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Alertmanager:
    """One Alertmanager instance; `routing` are the script's environment knobs (GROUP_BY, GROUP_WAIT,
    GROUP_INTERVAL, REPEAT_INTERVAL)."""

    def __init__(self, directory: Path, webhook_url: str, token: str, smtp: str | None = None, **routing: str):
        self.directory = Path(directory)
        self.webhook_url, self.token, self.smtp = webhook_url, token, smtp
        self.routing = {k.upper(): v for k, v in routing.items()}
        self.port = 0
        self.started_at: dict[tuple, datetime] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Alertmanager:
        for _attempt in range(3):  # a free port may be taken by someone else before it binds
            self.port = free_port()
            args = ["bash", str(START), str(self.directory), str(self.port), self.webhook_url, self.token]
            done = subprocess.run([*args, *([self.smtp] if self.smtp else [])], capture_output=True, text=True,
                                  timeout=60, env={**os.environ, **self.routing}, stdin=subprocess.DEVNULL)
            if done.returncode == 0:
                return self
            if "address already in use" not in done.stderr:
                break
        raise RuntimeError(f"start-alertmanager.sh failed ({done.returncode}): {done.stdout}{done.stderr}")

    def stop(self) -> None:
        subprocess.run(["bash", str(START), str(self.directory), "stop"], capture_output=True, timeout=30,
                       stdin=subprocess.DEVNULL)

    def log(self, lines: int = 30) -> str:
        try:
            return "\n".join((self.directory / "am.log").read_text().splitlines()[-lines:])
        except OSError:
            return ""

    def post(self, alerts: list[dict]) -> None:
        answer = requests.post(f"{self.url}/api/v2/alerts", json=alerts, timeout=10)
        assert answer.status_code == 200, answer.text

    def fire(self, labels: dict[str, str], annotations: dict[str, str] | None = None) -> None:
        """What Prometheus sends for a firing rule (again at every evaluation: a repeat)."""
        key = tuple(sorted(labels.items()))
        starts = self.started_at.setdefault(key, datetime.now(UTC))
        self.post([{"labels": labels, "annotations": annotations or {}, "startsAt": _rfc3339(starts),
                    "generatorURL": "http://prometheus.dc.bank.example:9090/graph"}])

    def resolve(self, labels: dict[str, str], annotations: dict[str, str] | None = None) -> None:
        """The same labels with endsAt in the past: Alertmanager sends them as resolved."""
        key = tuple(sorted(labels.items()))
        now = datetime.now(UTC)
        starts = self.started_at.get(key, now - timedelta(seconds=2))
        ends = max(now - timedelta(milliseconds=200), starts + timedelta(milliseconds=1))
        self.post([{"labels": labels, "annotations": annotations or {}, "startsAt": _rfc3339(starts),
                    "endsAt": _rfc3339(ends)}])

    def alerts(self) -> list[dict]:
        return requests.get(f"{self.url}/api/v2/alerts", timeout=10).json()


class ImapRelay:
    """An SMTP server on 127.0.0.1 (aiosmtpd, in this process) that APPENDs each accepted mail to an
    IMAP folder; a failed APPEND answers 451, so the sender retries. Use as a context manager.
    `received` counts every accepted mail, held or stored."""

    def __init__(self, *, imap_host: str, imap_port: int, user: str, password: str, folder: str):
        self.imap = (imap_host, imap_port, user, password)
        self.folder = folder
        self.received: list[bytes] = []
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._controller = None
        self._held: list[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self._controller.port}"

    def count(self) -> int:
        with self._lock:
            return len(self.received)

    def _append(self, raw: bytes) -> None:
        from imapclient import IMAPClient

        host, port, user, password = self.imap
        client = IMAPClient(host, port=port, ssl=False, timeout=30)
        try:
            client.login(user, password)
            client.append(self.folder, raw)
        finally:
            try:
                client.logout()
            except Exception:
                pass

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        received = (f"Received: from {session.host_name or 'unknown'} ({session.peer[0]}) by "
                    f"relay.test.opsdesk with SMTP; {datetime.now(UTC).strftime('%a, %d %b %Y %H:%M:%S +0000')}\r\n")
        raw = received.encode("ascii") + raw
        with self._lock:
            if self._held is not None:
                self._held.append(raw)
                self.received.append(raw)
                return "250 2.0.0 queued"
        try:
            self._append(raw)
        except Exception as exc:  # noqa: BLE001 (reported back to the sender and to the test)
            self.errors.append(repr(exc))
            return "451 4.3.0 could not store the message"
        with self._lock:
            self.received.append(raw)
        return "250 2.0.0 stored"

    def hold(self) -> None:
        """Accept mail from now on but keep it back from the mailbox."""
        with self._lock:
            self._held = [] if self._held is None else self._held

    def release(self) -> int:
        """Store what was held back, in order, and store directly again; returns how many."""
        with self._lock:
            held, self._held = self._held or [], None
        for raw in held:
            self._append(raw)
        return len(held)

    def __enter__(self) -> ImapRelay:
        from aiosmtpd.controller import Controller

        logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP command at INFO
        self._controller = Controller(self, hostname="127.0.0.1", port=free_port())
        self._controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self._controller.stop()

"""The desk under the article's peak load, for bench_load and bench_faults.

`Desk` brings up the production shape (tests/project/stack.py: gunicorn, two Celery workers, beat,
two pollers, a fake HTTP SMS gateway) on the private services of ops_services.py, migrated and
seeded at the bank's scale (21 cities, 60 counties, ~2,000 outlets, ~20,000 tellers).

`Load` is an open-loop generator on loopback (threads; no extra dependency): each kind of user
fires at its own rate whatever the response times, so a slow desk shows as latency, not as a
politely reduced load. The peak, from the issue: 1 in 10 tellers active, one action a minute each
(2,000 tellers → 33 actions/s), support staff working their queues, operators on the board, and
20 alert e-mails a second appended to the mailbox over IMAP.

`Ledger` remembers every write the generator had acknowledged (a unique token in each subject,
comment and Message-ID), so after a fault the database can be compared with what was sent in:
nothing lost (every acknowledged write is there), nothing duplicated (no token twice).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import requests
from urllib3.util.retry import Retry

from tests.bench.ops_services import PrivateServices
from tests.bench.stats import percentile
from tests.project.mail import nagios_mail
from tests.project.stack import ROOT, SmsGateway, Stack, free_port

__all__ = ["Desk", "Load", "Rates", "Ledger", "cpu_snapshot", "cpu_report"]

FAULT_DATA = {"transaction_code": "8001", "error_code": "E1021", "error_message": "账户状态异常",
              "occurred_at": "2026-11-20T09:30", "scope": "one_teller", "description": "柜员存款交易报错"}

SETUP = r"""
import json
from django.utils import timezone
from knox.models import AuthToken, get_digest_token
from knox.settings import CONSTANTS, knox_settings
from alerts.models import MailAccount, MailFolder
from opsdesk.org.models import User, ProductionSystem
cfg = json.loads('''%(cfg)s''')
people = list(User.objects.filter(is_active=True).values("id", "username", "unit_id", "roles").order_by("id"))
tellers = [p for p in people if "teller" in p["roles"]][::10]
chosen = tellers + [p for p in people if set(p["roles"]) & {"county_support", "city_support", "operator"}]
# Tokens are stored as digests only (knox): issue one per chosen person and keep the clear value here.
keys, tokens = {}, []
for p in chosen:
    digest, keys[p["id"]] = get_digest_token()
    tokens.append(AuthToken(digest=digest, token_key=keys[p["id"]][:CONSTANTS.TOKEN_KEY_LENGTH], user_id=p["id"],
                            expiry=timezone.now() + knox_settings.TOKEN_TTL))
AuthToken.objects.bulk_create(tokens)
account = MailAccount.objects.create(name="bench", host=cfg["host"], port=cfg["port"], security="plain",
                                     username=cfg["user"], password=cfg["password"], timeout=10)
MailFolder.objects.create(account=account, name="INBOX", quarantine_folder="Quarantine", batch_size=200,
                          poll_interval=1, rescan_interval=600)
out = {"systems": list(ProductionSystem.objects.order_by("pk").values_list("pk", flat=True)), "people": {}}
for p in chosen:
    role = next(r for r in ("teller", "county_support", "city_support", "operator") if r in p["roles"])
    out["people"].setdefault(role, []).append({"token": keys[p["id"]], "unit": p["unit_id"]})
print("SETUP " + json.dumps(out))
"""


@dataclass
class Rates:
    """Actions per second of each kind of user."""

    tellers: float = 2000 / 60      # 1 in 10 of 20,000 tellers, one action a minute
    county: float = 180 / 20        # 180 county support staff, an action every 20 s
    city: float = 63 / 30           # 63 city support staff, an action every 30 s
    operators: float = 2 / 2        # 2 operators on the board, refreshing every 2 s
    mail: float = 20.0              # alert e-mails a second

    def scaled(self, factor: float) -> Rates:
        return Rates(*(getattr(self, f) * factor for f in ("tellers", "county", "city", "operators", "mail")))


# --- CPU -------------------------------------------------------------------------------------------

def cpu_snapshot(sessions: dict[str, int]) -> dict:
    """Machine CPU jiffies, and CPU seconds used so far by each process session (a Stack process and
    its children, e.g. gunicorn's workers). A process counts its reaped children's time too: a
    gunicorn worker recycled after its max_requests, or a finished PostgreSQL backend, keeps counting."""
    with open("/proc/stat") as fh:
        fields = [int(v) for v in fh.readline().split()[1:]]
    idle = fields[3] + fields[4]
    per_session: dict[str, float] = defaultdict(float)
    by_sid = {sid: name for name, sid in sessions.items()}
    tick = 100.0
    me = os.getpid()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parts = stat.read_text().rsplit(")", 1)[1].split()
            own = (int(parts[11]) + int(parts[12])) / tick  # utime + stime
            seconds = own + (int(parts[13]) + int(parts[14])) / tick  # + cutime + cstime
            sid = int(parts[3])
            if sid in by_sid:
                per_session[by_sid[sid]] += seconds
                continue
            # The rest of the machine by kind: the database, broker and mail server the desk uses, and
            # this generator (its threads and the fake SMS gateway).
            kind = _other_kind(int(stat.parent.name), me, (stat.parent / "cmdline").read_bytes())
        except (OSError, ValueError, IndexError):
            continue
        if kind:
            # The generator's own time only: its reaped children are the desk's processes.
            per_session[kind] += own if kind == "load_generator" else seconds
    return {"total": sum(fields), "idle": idle, "at": time.monotonic(), "sessions": dict(per_session)}


def _other_kind(pid: int, me: int, cmdline: bytes) -> str | None:
    text = cmdline.replace(b"\0", b" ").decode(errors="replace")
    if pid == me:
        return "load_generator"
    if "opsdesk-bench" in text and "postgres" in text:
        return "postgresql"
    if text.startswith("redis-server") and ":6391" in text:
        return "redis"
    if "dovecot" in text or text.startswith(("imap", "imap-login")):
        return "dovecot"
    return None


def cpu_report(before: dict, after: dict) -> dict:
    total = after["total"] - before["total"]
    busy = total - (after["idle"] - before["idle"])
    wall = after["at"] - before["at"]
    report = {"machine_cpu_busy_percent": round(100.0 * busy / total, 1) if total else 0.0,
              "cpus": __import__("os").cpu_count()}
    groups: dict[str, float] = defaultdict(float)
    for name, seconds in after["sessions"].items():
        groups[name.rstrip("0123456789")] += seconds - before["sessions"].get(name, 0.0)
    report["cores_used_by_process"] = {name: round(seconds / wall, 2) for name, seconds in sorted(groups.items())}
    return report


# --- the desk ----------------------------------------------------------------------------------------

class Desk:
    """Services + migrated, seeded database + the Procfile's processes + the SMS gateway."""

    def __init__(self, workdir: Path, *, web_workers: int | None = None):
        self.workdir = workdir
        self.services = PrivateServices()
        self.gateway = SmsGateway()
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.web_workers = web_workers
        self.stack: Stack | None = None
        self.setup: dict = {}
        # Like systemd's Restart=always, compose's restart: unless-stopped, or Kubernetes: a process
        # that exits is started again after a pause. Every exit is recorded as a figure.
        self.exits: list[dict] = []
        self._supervising = threading.Event()
        self._supervisor: threading.Thread | None = None

    def env(self) -> dict[str, str]:
        return {"DATABASE_URL": self.services.database_url, "CELERY_BROKER_URL": self.services.broker_url,
                "OPSDESK_VAR_DIR": str(self.workdir / "var"), "OPSDESK_METRICS_CACHE_SECONDS": "5",
                "OPSDESK_ALERT_BACKOFF_MIN": "0.5", "OPSDESK_ALERT_BACKOFF_MAX": "5",
                "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost", **self.gateway.env()}

    def manage(self, *args: str, timeout: float = 600) -> str:
        result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, capture_output=True, text=True,
                                timeout=timeout, env={**__import__("os").environ, **self.env()})
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {args[0]} failed: {result.stderr[-2000:]}")
        return result.stdout

    def start(self) -> Desk:
        print("   starting private PostgreSQL, Redis, Dovecot …", flush=True)
        self.services.start()
        self.gateway.__enter__()
        started = time.monotonic()
        self.manage("migrate", "--noinput")
        self.manage("seed_org", "--scale", "bank")
        cfg = json.dumps(self.services.imap)
        out = self.manage("shell", "-c", SETUP % {"cfg": cfg})
        self.setup = json.loads(out.split("SETUP ", 1)[1])
        print(f"   migrated and seeded at bank scale in {time.monotonic() - started:.0f} s", flush=True)
        self.stack = Stack(self.workdir / "stack", self.env())
        if self.web_workers:
            self.stack.web(self.port, workers=self.web_workers)
        else:
            self.stack.start("web", [str(Path(sys.executable).parent / "gunicorn"), "opsdesk.wsgi:application",
                                     "-c", "deploy/gunicorn.conf.py", "--bind", f"127.0.0.1:{self.port}",
                                     "--access-logfile", "/dev/null"])
        self.stack.worker("worker1", concurrency=2)
        self.stack.worker("worker2", concurrency=2)
        self.stack.beat()
        self.stack.poller("poller1")
        self.stack.poller("poller2")
        self._supervising.set()
        self._supervisor = threading.Thread(target=self._supervise, daemon=True)
        self._supervisor.start()
        self.wait(lambda: self._ready(), 120, "the desk to be ready")
        self.wait(lambda: self.services.sql("SELECT poller FROM alerts_mailfolder")[0][0], 60, "a poller")
        return self

    def _supervise(self, pause: float = 5.0) -> None:
        dead_since: dict[str, float] = {}
        while self._supervising.is_set():
            for name, proc in list(self.stack.procs.items()):
                if proc.alive():
                    dead_since.pop(name, None)
                    continue
                if name not in dead_since:
                    dead_since[name] = time.monotonic()
                    self.exits.append({"process": name, "exit_code": proc.popen.returncode,
                                       "at_s": round(time.monotonic() - proc.started, 1)})
                    print(f"   supervisor: {name} exited ({proc.popen.returncode}); restarting in {pause:.0f} s",
                          flush=True)
                elif time.monotonic() - dead_since[name] >= pause and self._supervising.is_set():
                    self.stack.start(name, proc.argv)
                    dead_since.pop(name, None)
            time.sleep(0.5)

    def _ready(self) -> bool:
        try:
            return requests.get(f"{self.base}/readyz", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    @staticmethod
    def wait(predicate, timeout: float, what: str) -> float:
        started = time.monotonic()
        while not predicate():
            if time.monotonic() - started > timeout:
                raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")
            time.sleep(0.2)
        return time.monotonic() - started

    def sessions(self) -> dict[str, int]:
        return {name: proc.pid for name, proc in (self.stack.procs.items() if self.stack else [])}

    def holder(self) -> str | None:
        """Name of the Stack poller that holds the mailbox now."""
        holder = self.services.sql("SELECT poller FROM alerts_mailfolder")[0][0] or ""
        pid = int(holder.rsplit(":", 1)[1].split("#", 1)[0]) if ":" in holder else None
        return next((n for n, p in self.stack.procs.items() if p.pid == pid and p.alive()), None)

    def drained(self) -> bool:
        """Nothing left in flight: mail stored, tasks done, SMS out."""
        # Rows held on purpose (digest window, per-person rate limit, quiet hours, retry back-off)
        # are not in flight; rows that are due and still not sent are.
        return self.due_unsent() == 0 and self.queue_depth() == 0

    def due_unsent(self) -> int:
        return self.services.count(
            "notifications_notification",
            "status IN ('queued','sending','failed') AND coalesce(next_attempt_at, not_before, created_at) "
            "< now() - interval '20 seconds'")

    def settle(self, ledger: Ledger, timeout: float) -> dict:
        """Wait (up to `timeout`) until the mail sent in is stored and nothing due is in flight.
        Not reaching it is a figure, not a crash: how much was still waiting is reported."""
        started = time.monotonic()
        mails_in = lambda: not ledger.mail_backlog and ledger.check(self)["mails_lost"] == 0  # noqa: E731
        while time.monotonic() - started < timeout:
            if mails_in() and self.drained():
                return {"settled": True, "settle_s": round(time.monotonic() - started, 1)}
            time.sleep(1.0)
        return {"settled": False, "settle_s": round(time.monotonic() - started, 1),
                "still_due_unsent_notifications": self.due_unsent(), "still_queued_tasks": self.queue_depth(),
                "mails_not_yet_stored": ledger.check(self)["mails_lost"]}

    def queue_depth(self) -> int:
        out = subprocess.run(["redis-cli", "-p", str(self.services.redis_port), "eval",
                              "local n = 0 for _, q in ipairs(KEYS) do n = n + redis.call('llen', q) end return n",
                              "3", "default", "notifications", "alerts"], capture_output=True, text=True)
        try:
            return int(out.stdout.strip())
        except ValueError:
            return -1

    def stop(self) -> dict:
        """SIGTERM every process (their exit codes are the graceful-shutdown figure), then make sure
        nothing of this desk is left running, even if interrupted."""
        codes: dict = {}
        self._supervising.clear()
        if self._supervisor is not None:
            self._supervisor.join(timeout=5)
        try:
            codes = self.stack.stop_all(timeout=60) if self.stack else {}
        finally:
            if self.stack:
                self.stack.cleanup()
            try:
                self.gateway.__exit__(None, None, None)
            finally:
                self.services.stop()
        return codes


# --- the load ------------------------------------------------------------------------------------------

@dataclass
class Ledger:
    """What the generator sent in and which of it the desk acknowledged."""

    filed: dict[str, int | None] = field(default_factory=dict)       # subject token → request id (None: no 201)
    transitions: dict[str, bool] = field(default_factory=dict)       # comment token → acknowledged (200)
    acknowledgements: dict[str, bool] = field(default_factory=dict)  # comment token → acknowledged (200)
    mails: dict[str, float] = field(default_factory=dict)            # Message-ID → time appended
    mail_backlog: list[bytes] = field(default_factory=list)          # not yet accepted by the mail server

    def check(self, desk: Desk) -> dict:
        """Compare the database (and the SMS gateway) with what was sent in."""
        sql = desk.services.sql
        subjects = defaultdict(int)
        for (subject,) in sql("SELECT subject FROM tickets_servicerequest WHERE subject LIKE 'LT-%%'"):
            subjects[subject.split()[0]] += 1
        comments = defaultdict(int)
        for (comment,) in sql("SELECT comment FROM tickets_requestevent WHERE comment LIKE 'LT-%%'"):
            comments[comment.split()[0]] += 1
        acks = defaultdict(int)
        for (comment,) in sql("SELECT comment FROM alerts_incidentevent WHERE comment LIKE 'LT-%%'"):
            acks[comment.split()[0]] += 1
        messages = defaultdict(int)
        for (mid,) in sql("SELECT message_id FROM alerts_ingestedmessage WHERE message_id <> ''"):
            messages[mid] += 1
        # The database first: a row is marked sent only after the gateway took it, so every key read
        # here is at the gateway by the time its list is read (the other order races with delivery).
        sent_keys = [k for (k,) in sql("SELECT idempotency_key FROM notifications_notification WHERE status = 'sent'")]
        keys = desk.gateway.keys()
        statuses = dict(sql("SELECT status, count(*) FROM notifications_notification GROUP BY status"))
        acked_filed = [t for t, pk in self.filed.items() if pk]
        acked_transitions = [t for t, ok in self.transitions.items() if ok]
        acked_acks = [t for t, ok in self.acknowledgements.items() if ok]
        return {
            "requests_acknowledged": len(acked_filed),
            "requests_stored": sum(subjects.values()),
            "requests_lost": sum(1 for t in acked_filed if subjects.get(t, 0) == 0),
            "requests_duplicated": sum(1 for n in subjects.values() if n > 1),
            "requests_stored_without_acknowledgement": sum(1 for t, pk in self.filed.items() if not pk and subjects.get(t)),
            "transitions_acknowledged": len(acked_transitions),
            "transitions_lost": sum(1 for t in acked_transitions if comments.get(t, 0) == 0),
            "transitions_duplicated": sum(1 for n in comments.values() if n > 1),
            "incident_acks_acknowledged": len(acked_acks),
            "incident_acks_lost": sum(1 for t in acked_acks if acks.get(t, 0) == 0),
            "incident_acks_duplicated": sum(1 for n in acks.values() if n > 1),
            "mails_accepted_by_mail_server": len(self.mails),
            "mails_stored": sum(1 for m in self.mails if messages.get(m)),
            "mails_lost": sum(1 for m in self.mails if not messages.get(m)),
            "mails_duplicated": sum(1 for m in self.mails if messages.get(m, 0) > 1),
            "incidents": desk.services.count("alerts_incident"),
            "notifications_by_status": statuses,
            "sms_at_gateway": len(keys),
            "sms_duplicated_at_gateway": len(keys) - len(set(keys)),
            "sms_sent_but_not_at_gateway": len(set(sent_keys) - set(keys)),
        }

    def mail_latency(self, desk: Desk) -> dict:
        stored = dict(desk.services.sql(
            "SELECT message_id, extract(epoch FROM stored_at)::float8 FROM alerts_ingestedmessage WHERE message_id <> ''"))
        lags = [stored[m] - at for m, at in self.mails.items() if m in stored]
        return {"n": len(lags), "p50_s": round(percentile(lags, 50), 2), "p95_s": round(percentile(lags, 95), 2),
                "p99_s": round(percentile(lags, 99), 2), "max_s": round(max(lags), 2) if lags else None}


# The tellers' requests reach gunicorn through nginx, which closes an upstream connection idle for
# 4 s (deploy/nginx/opsdesk.conf: keepalive_timeout, below gunicorn's keepalive of 5 s); the generator
# stands in for that nginx.
CLIENT_IDLE_CLOSE_S = 4.0


class ReusedConnectionRetry(Retry):
    """What browsers (and nginx's proxy_next_upstream) do: an idempotent request whose kept-alive
    connection the server closed before answering (gunicorn drops a connection idle for its keep-alive
    time, and a request can cross that close) is sent once more on a new connection. Counted, so the
    figures show how often; a POST is never re-sent."""

    counts: dict[str, int] = defaultdict(int)
    lock = threading.Lock()

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):
        with self.lock:
            self.counts[error.__class__.__name__ if error is not None else "response"] += 1
        return super().increment(method, url, response, error, _pool, _stacktrace)


class Load:
    def __init__(self, desk: Desk, rates: Rates, *, seed: int = 7):
        self.desk = desk
        self.rates = rates
        self.people = desk.setup["people"]
        self.systems = desk.setup["systems"]
        self.random = random.Random(seed)
        self.ledger = Ledger()
        self.samples: list[tuple[str, float, float, int, str]] = []  # endpoint, at, seconds, status, kind
        self.lock = threading.Lock()
        self.local = threading.local()
        self.pool = ThreadPoolExecutor(max_workers=96, thread_name_prefix="load")
        self.running = threading.Event()
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self.my_requests: dict[str, list[int]] = defaultdict(list)
        self.hosts = [f"szapp{i:03d}" for i in range(400)]
        self.wall_time = 0.0  # seconds the load actually ran (pauses excluded)
        self.max_backlog = 200  # arrivals waiting for a free generator thread
        self.dropped = 0
        self.connection_errors: dict[str, int] = defaultdict(int)  # what a request with no answer met

    # --- HTTP with timing --------------------------------------------------------------------------
    def _session(self) -> requests.Session:
        session = getattr(self.local, "session", None)
        now = time.monotonic()
        if session is not None and now - self.local.used > CLIENT_IDLE_CLOSE_S:
            session.close()  # as nginx in front of the desk does: never reuse a connection gunicorn may be closing
            session = None
        self.local.used = now
        if session is None:
            session = self.local.session = requests.Session()
            retry = ReusedConnectionRetry(total=1, connect=1, read=1, status=0, other=0, allowed_methods={"GET"},
                                          raise_on_status=False)
            session.mount("http://", requests.adapters.HTTPAdapter(max_retries=retry))
        return session

    def call(self, endpoint: str, method: str, path: str, token: str, expect: tuple[int, ...] = (200,),
             conflict: tuple[int, ...] = (), **kwargs) -> requests.Response | None:
        started = time.monotonic()
        try:
            response = self._session().request(method, f"{self.desk.base}{path}", timeout=30,
                                               headers={"Authorization": f"Token {token}"}, **kwargs)
            status = response.status_code
        except requests.RequestException as exc:
            response, status = None, 0
            with self.lock:
                self.connection_errors[f"{method} {exc.__class__.__name__}: {str(exc)[-80:]}"] += 1
        kind = "ok" if status in expect else "conflict" if status in conflict else "error"
        with self.lock:
            self.samples.append((endpoint, started, time.monotonic() - started, status, kind))
        return response if kind == "ok" else None

    def pick_system(self) -> int:
        """Half of the faults are about the core system (the first), the rest spread over the others."""
        return self.systems[0] if self.random.random() < 0.5 else self.random.choice(self.systems)

    # --- the users ---------------------------------------------------------------------------------
    def teller(self) -> None:
        person = self.random.choice(self.people["teller"])
        token, r = person["token"], self.random.random()
        if r < 0.10:
            tag = f"LT-{uuid.uuid4().hex[:12]}"
            self.ledger.filed[tag] = None
            response = self.call("POST /api/requests/ (file)", "POST", "/api/requests/", token, expect=(201,),
                                 json={"type": "fault_report", "subject": f"{tag} 存款交易报错", "system": self.pick_system(),
                                       "data": FAULT_DATA})
            if response is not None:
                pk = response.json()["id"]
                self.ledger.filed[tag] = pk
                self.my_requests[token].append(pk)
        elif r < 0.60 or not self.my_requests[token]:
            self.call("GET /api/requests/?mine", "GET", "/api/requests/?mine=true&limit=20", token)
        else:
            pk = self.random.choice(self.my_requests[token])
            self.call("GET /api/requests/{id}/", "GET", f"/api/requests/{pk}/", token)

    def support(self, role: str) -> None:
        person = self.random.choice(self.people[role])
        token = person["token"]
        queue = self.call(f"GET /api/requests/?holder ({role})", "GET",
                          f"/api/requests/?holder={person['unit']}&open=true&ordering=held_since&limit=5", token)
        if queue is None or self.random.random() < 0.4:
            return
        results = queue.json().get("results", [])
        if not results:
            return
        item = self.random.choice(results)
        pk = item["id"]
        allowed = self.call("GET /api/requests/{id}/transitions/", "GET", f"/api/requests/{pk}/transitions/", token,
                            expect=(200,), conflict=(404,))
        if allowed is None:
            return
        info = allowed.json()
        choices = info.get("allowed", [])
        preference = ["pass_down", "answer", "escalate"] if self.random.random() < 0.7 else \
            ["pass_down", "escalate", "answer"]
        name = next((n for n in preference if n in choices), None)
        if name is None:
            return
        tag = f"LT-{uuid.uuid4().hex[:12]}"
        self.ledger.transitions[tag] = False
        done = self.call("POST /api/requests/{id}/transitions/", "POST", f"/api/requests/{pk}/transitions/", token,
                         conflict=(409,), json={"action": name, "version": info["version"],
                                                "comment": f"{tag} 已处理"})
        self.ledger.transitions[tag] = done is not None

    def operator(self) -> None:
        token = self.random.choice(self.people["operator"])["token"]
        board = self.call("GET /api/incidents/?state=open", "GET", "/api/incidents/?state=open&limit=50", token)
        if board is None or self.random.random() > 0.2:
            return
        incidents = board.json().get("results", [])
        if not incidents:
            return
        incident = self.random.choice(incidents)
        tag = f"LT-{uuid.uuid4().hex[:12]}"
        self.ledger.acknowledgements[tag] = False
        done = self.call("POST /api/incidents/{id}/acknowledge/", "POST",
                         f"/api/incidents/{incident['id']}/acknowledge/", token, conflict=(409,),
                         json={"expected_version": incident.get("version"), "comment": f"{tag} 已确认"}
                         if incident.get("version") is not None else {"comment": f"{tag} 已确认"})
        self.ledger.acknowledgements[tag] = done is not None

    # --- alert mail ------------------------------------------------------------------------------------
    def _mail_loop(self) -> None:
        from imapclient import IMAPClient

        imap = self.desk.services.imap
        client = None
        interval = 1.0 / self.rates.mail
        next_at = time.monotonic()
        while not self.stopping.is_set():
            if not self.running.is_set():
                self.running.wait(0.2)
                next_at = time.monotonic()
                continue
            now = time.monotonic()
            if now < next_at:
                time.sleep(min(next_at - now, 0.05))
                continue
            next_at += interval
            host = self.random.choice(self.hosts)
            problem = self.random.random() < 0.85
            raw = nagios_mail(host, "Disk /oradata", state="CRITICAL" if problem else "OK",
                              kind="PROBLEM" if problem else "RECOVERY")
            self.ledger.mail_backlog.append(raw)
            try:
                if client is None:
                    client = IMAPClient(imap["host"], port=imap["port"], ssl=False, timeout=10)
                    client.login(imap["user"], imap["password"])
                while self.ledger.mail_backlog:  # what the mail server refused earlier goes first, as an MTA would
                    message = self.ledger.mail_backlog[0]
                    client.append("INBOX", message)
                    mid = message.split(b"Message-Id: ", 1)[1].split(b"\r\n", 1)[0].decode()
                    self.ledger.mails[mid] = time.time()
                    self.ledger.mail_backlog.pop(0)
            except Exception:
                client = None  # the mail server is away: keep the backlog, retry at the next tick
        if client is not None:
            try:
                client.logout()
            except Exception:
                pass

    # --- scheduling ----------------------------------------------------------------------------------------
    def _schedule(self, rate: float, action) -> None:
        interval = 1.0 / rate
        next_at = time.monotonic()
        while not self.stopping.is_set():
            if not self.running.is_set():
                self.running.wait(0.2)
                next_at = time.monotonic()
                continue
            now = time.monotonic()
            if now < next_at:
                time.sleep(min(next_at - now, 0.05))
                continue
            next_at += interval * self.random.expovariate(1.0)  # Poisson arrivals
            if self.pool._work_queue.qsize() >= self.max_backlog:  # noqa: SLF001
                # The desk does not keep up: this user gives up instead of queueing for ever.
                # Counted, so a saturated desk shows as "dropped", not as a politely lower load.
                with self.lock:
                    self.dropped += 1
                continue
            self.pool.submit(self._safe, action)

    @staticmethod
    def _safe(action) -> None:
        thread = threading.current_thread()
        thread._busy = True  # noqa: SLF001  (read by in_flight)
        try:
            action()
        except Exception as exc:  # a generator bug must show, not stop the load
            print(f"   load generator: {exc.__class__.__name__}: {exc}", flush=True)
        finally:
            thread._busy = False  # noqa: SLF001

    def start(self) -> None:
        plan = [(self.rates.tellers, self.teller), (self.rates.county, lambda: self.support("county_support")),
                (self.rates.city, lambda: self.support("city_support")), (self.rates.operators, self.operator)]
        for rate, action in plan:
            if rate > 0:
                self.threads.append(threading.Thread(target=self._schedule, args=(rate, action), daemon=True))
        if self.rates.mail > 0:
            self.threads.append(threading.Thread(target=self._mail_loop, daemon=True))
        for thread in self.threads:
            thread.start()

    def run_for(self, seconds: float, on_tick=None) -> None:
        self.running.set()
        started = time.monotonic()
        while time.monotonic() - started < seconds:
            if on_tick:
                on_tick(time.monotonic() - started)
            time.sleep(0.5)
        self.running.clear()
        self.wall_time += time.monotonic() - started

    def quiesce(self, timeout: float = 60) -> None:
        """Pause and let the requests in flight finish (arrivals still waiting for a thread are
        counted as dropped: they were never sent)."""
        self.running.clear()
        while True:
            try:
                self.pool._work_queue.get_nowait()  # noqa: SLF001
            except Exception:
                break
            with self.lock:
                self.dropped += 1
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.in_flight() > 0:
            time.sleep(0.2)

    def in_flight(self) -> int:
        return sum(1 for t in threading.enumerate() if t.name.startswith("load") and getattr(t, "_busy", False))

    def stop(self) -> None:
        self.stopping.set()
        self.running.set()
        for thread in self.threads:
            thread.join(timeout=10)
        self.pool.shutdown(wait=True, cancel_futures=True)

    # --- figures -----------------------------------------------------------------------------------------
    def figures(self, since: float | None = None, until: float | None = None) -> dict:
        with self.lock:
            samples = [s for s in self.samples if (since is None or s[1] >= since) and (until is None or s[1] < until)]
        by_endpoint: dict[str, list] = defaultdict(list)
        for sample in samples:
            by_endpoint[sample[0]].append(sample)
        wall = self.wall_time or 1.0
        endpoints = {}
        for endpoint, rows in sorted(by_endpoint.items()):
            ms = [r[2] * 1000 for r in rows]
            endpoints[endpoint] = {
                "n": len(rows), "per_s": round(len(rows) / wall, 2),
                "p50_ms": round(percentile(ms, 50), 1), "p95_ms": round(percentile(ms, 95), 1),
                "p99_ms": round(percentile(ms, 99), 1),
                "errors": sum(1 for r in rows if r[4] == "error"),
                "conflicts_409": sum(1 for r in rows if r[4] == "conflict"),
            }
        statuses = defaultdict(int)
        for sample in samples:
            if sample[4] == "error":
                statuses[str(sample[3] or "connection")] += 1
        return {"requests": len(samples), "throughput_per_s": round(len(samples) / wall, 1),
                "arrivals_dropped_desk_saturated": self.dropped,
                "errors": sum(1 for s in samples if s[4] == "error"), "error_statuses": dict(statuses),
                "conflicts_409": sum(1 for s in samples if s[4] == "conflict"), "endpoints": endpoints,
                "connection_errors": dict(self.connection_errors),
                "get_resent_after_connection_closed": dict(ReusedConnectionRetry.counts)}

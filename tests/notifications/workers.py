"""Real Celery worker processes for the pipeline tests and the benchmark."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["CeleryWorkers", "database_url_for_workers"]

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))


def database_url_for_workers() -> str:
    """The URL of the database this process uses now (pytest-django's test_<name> database)."""
    from django.db import connection

    s = connection.settings_dict
    if connection.vendor != "postgresql":
        raise RuntimeError("the Celery pipeline tests need PostgreSQL: set DATABASE_URL=postgresql://… "
                           "(worker processes cannot share an SQLite test database)")
    return f"postgresql://{s['USER']}:{s['PASSWORD']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class CeleryWorkers:
    """Start `count` solo-pool workers consuming `queue`; kill or stop them by their own pids."""

    def __init__(self, *, queue: str, env: dict[str, str], run_dir: Path, count: int = 1,
                 concurrency_pool: str = "solo"):
        self.queue, self.count, self.pool = queue, count, concurrency_pool
        self.env = {**os.environ, **env}
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.processes: dict[int, subprocess.Popen] = {}
        self.generation = 0

    def start(self, index: int | None = None, timeout: float = 180.0) -> None:
        indexes = range(self.count) if index is None else [index]
        for i in indexes:
            self.generation += 1
            log = self.run_dir / f"worker{i}-{self.generation}.log"
            cmd = [CELERY, "-A", "tests.notifications.worker_app", "worker", "-Q", self.queue,
                   "-n", f"w{i}-{self.generation}-{self.queue}@%h", f"--pool={self.pool}", "-l", "info",
                   "--without-gossip", "--without-mingle", "--without-heartbeat", f"--logfile={log}"]
            self.processes[i] = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL,
                                                 stderr=open(self.run_dir / f"worker{i}.stderr", "ab"))
            self._wait_ready(i, log, timeout)

    def _wait_ready(self, i: int, log: Path, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if log.exists() and " ready." in log.read_text(errors="replace"):
                return
            if self.processes[i].poll() is not None:
                break
            time.sleep(0.1)
        tail = log.read_text(errors="replace")[-3000:] if log.exists() else "(no log)"
        err = (self.run_dir / f"worker{i}.stderr").read_text(errors="replace")[-3000:]
        raise RuntimeError(f"celery worker {i} did not start:\n{tail}\n{err}")

    def kill(self, index: int = 0) -> None:
        """SIGKILL: what a crash or an OOM kill does. Nothing is acknowledged."""
        process = self.processes.pop(index)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for index, process in list(self.processes.items()):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
            self.processes.pop(index, None)

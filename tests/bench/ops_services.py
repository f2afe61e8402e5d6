"""Private PostgreSQL, Redis and Dovecot for the load and fault benchmarks.

The fault benchmark restarts PostgreSQL and Redis and stops Dovecot; doing that to the services the
test suite shares would break whoever else is testing on the machine. So the benchmarks run their
own: a PostgreSQL cluster `opsdesk-bench` (Debian's pg_createcluster, its own port and data
directory), a Redis with an append-only file (queued tasks survive a restart, as in production),
and a Dovecot started by deploy/local/start-dovecot.sh in its own directory. Needs root (as
`make bench` has), like the test services.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import time
from pathlib import Path

import psycopg

__all__ = ["PrivateServices"]

ROOT = Path(__file__).resolve().parents[2]
ROLE, PASSWORD = "bench", "bench"
IMAP_USER, IMAP_PASSWORD = "bench", "bench-secret"


def _run(*argv: str, timeout: float = 120, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=check, **kwargs)


class PrivateServices:
    def __init__(self, workdir: Path = Path("/tmp/opsdesk-bench"), *, pg_port: int = 5442, redis_port: int = 6391,
                 imap_port: int = 10243, database: str = "opsdesk_bench", cluster: str = "opsdesk-bench"):
        self.workdir = workdir
        self.cluster = cluster
        self.pg_port, self.redis_port, self.imap_port = pg_port, redis_port, imap_port
        self.database = database
        self.version = Path(sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))[-1]).parents[1].name

    # --- addresses -------------------------------------------------------------------------------
    @property
    def database_url(self) -> str:
        return f"postgresql://{ROLE}:{PASSWORD}@127.0.0.1:{self.pg_port}/{self.database}"

    @property
    def broker_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    @property
    def imap(self) -> dict:
        return {"host": "127.0.0.1", "port": self.imap_port, "user": IMAP_USER, "password": IMAP_PASSWORD}

    def sql(self, query: str, params=None) -> list[tuple]:
        with psycopg.connect(self.database_url, autocommit=True, connect_timeout=5) as conn:
            return conn.execute(query, params).fetchall()

    def count(self, table: str, where: str = "") -> int:
        return self.sql(f"SELECT count(*) FROM {table} {('WHERE ' + where) if where else ''}")[0][0]

    # --- PostgreSQL --------------------------------------------------------------------------------
    def start_postgres(self) -> None:
        clusters = _run("pg_lsclusters", "-h").stdout
        if not any(line.split()[1] == self.cluster for line in clusters.splitlines() if line.strip()):
            _run("pg_createcluster", self.version, self.cluster, "-p", str(self.pg_port))
            _run("pg_conftool", self.version, self.cluster, "set", "max_connections", "300")
        _run("pg_ctlcluster", self.version, self.cluster, "start", check=False)
        self._wait_postgres()
        psql = ["runuser", "-u", "postgres", "--", "psql", "-p", str(self.pg_port), "-v", "ON_ERROR_STOP=1", "-qAt"]
        if _run(*psql, "-c", f"SELECT 1 FROM pg_roles WHERE rolname = '{ROLE}'").stdout.strip() != "1":
            _run(*psql, "-c", f"CREATE ROLE {ROLE} LOGIN CREATEDB PASSWORD '{PASSWORD}'")
        _run(*psql, "-c", f"DROP DATABASE IF EXISTS {self.database} WITH (FORCE)")
        _run(*psql, "-c", f"CREATE DATABASE {self.database} OWNER {ROLE}")

    def _wait_postgres(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while _run("pg_isready", "-q", "-h", "127.0.0.1", "-p", str(self.pg_port), check=False).returncode != 0:
            if time.monotonic() > deadline:
                raise RuntimeError("the benchmark's PostgreSQL did not come up")
            time.sleep(0.2)

    def restart_postgres(self) -> None:
        """A fast restart: every connection is cut, as in a fail-over or a crash-restart."""
        _run("pg_ctlcluster", self.version, self.cluster, "restart", "-m", "fast")
        self._wait_postgres()

    def stop_postgres(self) -> None:
        _run("pg_ctlcluster", self.version, self.cluster, "stop", "-m", "fast", check=False)

    # --- Redis ---------------------------------------------------------------------------------------
    def start_redis(self) -> None:
        directory = self.workdir / "redis"
        directory.mkdir(parents=True, exist_ok=True)
        if _run("redis-cli", "-p", str(self.redis_port), "ping", check=False).stdout.strip() != "PONG":
            _run("redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", str(self.redis_port),
                 "--dir", str(directory), "--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
                 "--pidfile", str(directory / "redis.pid"), "--logfile", str(directory / "redis.log"))
        self._wait_redis()

    def _wait_redis(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while _run("redis-cli", "-p", str(self.redis_port), "ping", check=False).stdout.strip() != "PONG":
            if time.monotonic() > deadline:
                raise RuntimeError("the benchmark's Redis did not come up")
            time.sleep(0.1)

    def flush_redis(self) -> None:
        _run("redis-cli", "-p", str(self.redis_port), "flushall")

    def restart_redis(self) -> None:
        """SHUTDOWN (the append-only file keeps queued tasks) and start again."""
        _run("redis-cli", "-p", str(self.redis_port), "shutdown", check=False)
        deadline = time.monotonic() + 30
        while _run("redis-cli", "-p", str(self.redis_port), "ping", check=False).returncode == 0:
            if time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.start_redis()

    def stop_redis(self) -> None:
        _run("redis-cli", "-p", str(self.redis_port), "shutdown", "nosave", check=False)

    # --- Dovecot -------------------------------------------------------------------------------------
    @property
    def imap_dir(self) -> Path:
        return self.workdir / "imap"

    def start_dovecot(self) -> None:
        _run("bash", str(ROOT / "deploy/local/start-dovecot.sh"), str(self.imap_dir), str(self.imap_port),
             f"{IMAP_USER}:{IMAP_PASSWORD}", env={**os.environ, "IMAPS_PORT": "0"})

    def stop_dovecot(self) -> None:
        _run("bash", str(ROOT / "deploy/local/stop-dovecot.sh"), str(self.imap_dir), check=False)

    def clear_mailbox(self) -> None:
        self.stop_dovecot()
        shutil.rmtree(self.imap_dir / "mail" / IMAP_USER, ignore_errors=True)
        self.start_dovecot()

    # --- all ---------------------------------------------------------------------------------------------
    def start(self) -> PrivateServices:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.start_postgres()
        self.start_redis()
        self.flush_redis()
        self.start_dovecot()
        self.clear_mailbox()
        return self

    def stop(self) -> None:
        self.stop_dovecot()
        self.stop_redis()
        self.stop_postgres()

"""One poller per mailbox, across machines: a lock held for as long as the poller reads it.

PostgreSQL: a session advisory lock on a connection of its own (it goes away with the process,
so a crashed poller never leaves a stale lock). Other databases: Redis when
OPSDESK_ALERT_LOCK_REDIS_URL is set (a lease the holder keeps extending), else a local file lock
(the embedded single-machine default).
"""

from __future__ import annotations

import fcntl
import os
import socket
import uuid
import zlib
from pathlib import Path

from django.conf import settings
from django.db import connection

from alerts.conf import setting

__all__ = ["MailboxLock", "mailbox_lock", "holder_name"]

LOCK_NAMESPACE = 0x0A1E  # first key of pg_try_advisory_lock(int, int)


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class MailboxLock:
    def acquire(self) -> bool:  # non-blocking
        raise NotImplementedError

    def still_held(self) -> bool:
        raise NotImplementedError

    def release(self) -> None:
        raise NotImplementedError

    def fence(self, cursor) -> bool:
        """Inside a write transaction: is the lock still ours? (Only PostgreSQL can tell for sure.)"""
        return self.still_held()


class PostgresLock(MailboxLock):
    """A session advisory lock on a connection of its own. The lock lives exactly as long as that
    session: a database restart (or pg_terminate_backend) ends both, so `still_held()` asks the
    server (pg_locks) rather than trusting our memory, and `fence()` lets a write transaction on
    another connection check, inside that transaction, that this session still holds the lock."""

    def __init__(self, name: str):
        self.key = zlib.crc32(name.encode()) - 2**31
        self.conn = None
        self.backend_pid: int | None = None

    _HELD = ("SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted "
             "AND classid = %s AND objid = %s AND objsubid = 2 AND pid = %s)")

    def _lock_keys(self) -> tuple[int, int]:
        # pg_locks shows the two int4 keys as oids (unsigned).
        return LOCK_NAMESPACE & 0xFFFFFFFF, self.key & 0xFFFFFFFF

    def acquire(self) -> bool:
        self.release()  # a fresh session each time: an old one may be dead (database restart)
        try:
            self.conn = connection.get_new_connection(connection.get_connection_params())
            self.conn.autocommit = True
            with self.conn.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_lock(%s, %s), pg_backend_pid()", (LOCK_NAMESPACE, self.key))
                got, pid = cursor.fetchone()
        except BaseException:
            self.release()
            raise
        if not got:
            self.release()
            return False
        self.backend_pid = pid
        return True

    def still_held(self) -> bool:
        if self.conn is None or self.backend_pid is None:
            return False
        try:
            with self.conn.cursor() as cursor:
                cursor.execute(self._HELD, (*self._lock_keys(), self.backend_pid))
                return bool(cursor.fetchone()[0])
        except Exception:  # the lock's connection is gone, and the lock with it
            return False

    def fence(self, cursor) -> bool:
        """Still held? Asked on `cursor` (another connection, e.g. inside the ingest transaction)."""
        if self.backend_pid is None:
            return False
        cursor.execute(self._HELD, (*self._lock_keys(), self.backend_pid))
        return bool(cursor.fetchone()[0])

    def release(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()  # closing the session releases its advisory locks
            except Exception:
                pass
        self.conn = None
        self.backend_pid = None


class RedisLock(MailboxLock):
    LEASE_S = 30

    def __init__(self, name: str, url: str):
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=5)
        self.key = f"opsdesk:alerts:poller:{name}"
        self.token = f"{holder_name()}:{uuid.uuid4().hex}"

    def acquire(self) -> bool:
        return bool(self.client.set(self.key, self.token, nx=True, ex=self.LEASE_S))

    _EXTEND = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('expire', KEYS[1], ARGV[2]) else return 0 end"

    def still_held(self) -> bool:
        try:
            return bool(self.client.eval(self._EXTEND, 1, self.key, self.token, self.LEASE_S))
        except Exception:
            return False

    _RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"

    def release(self) -> None:
        try:
            self.client.eval(self._RELEASE, 1, self.key, self.token)
        except Exception:
            pass


class FileLock(MailboxLock):
    def __init__(self, name: str):
        directory = Path(getattr(settings, "VAR_DIR", Path(settings.BASE_DIR) / "var")) / "locks"
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / (name.replace("/", "_").replace(":", "_") + ".lock")
        self.fd = None

    def acquire(self) -> bool:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self.fd = fd
        os.ftruncate(fd, 0)
        os.write(fd, holder_name().encode())
        return True

    def still_held(self) -> bool:
        return self.fd is not None

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def mailbox_lock(name: str) -> MailboxLock:
    if connection.vendor == "postgresql":
        return PostgresLock(name)
    url = setting("OPSDESK_ALERT_LOCK_REDIS_URL")
    if url:
        return RedisLock(name, url)
    return FileLock(name)

"""The embedded default source: a local Maildir drop folder (settings.OPSDESK_ALERT_MAILDIR).

Drop a message file into `new/` (or let a local MTA deliver there); the poller hands it to the
same ingest service as IMAP and, after the commit, moves it to `cur/` (or to the `.Quarantine`
sub-folder's `cur/` when it cannot be read). A file stored but not yet moved (a crash between the
two) is recognised by its file name and only moved.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from django.db import close_old_connections, connection

from alerts.choices import Origin, Outcome
from alerts.conf import setting
from alerts.models import IngestedMessage
from alerts.services import Inbound, ingest_messages, load_rules
from alerts.sources.locks import FileLock

__all__ = ["MaildirPoller", "ensure_maildir"]

log = logging.getLogger("opsdesk.alerts.maildir")
BATCH = 200


def ensure_maildir(path: Path) -> None:
    for sub in ("new", "cur", "tmp", ".Quarantine/new", ".Quarantine/cur", ".Quarantine/tmp"):
        (path / sub).mkdir(parents=True, exist_ok=True)


class MaildirPoller:
    def __init__(self, path: Path | str, *, stop: threading.Event | None = None, interval: float | None = None):
        self.path = Path(path)
        self.stop = stop or threading.Event()
        self.interval = interval if interval is not None else setting("OPSDESK_ALERT_MAILDIR_INTERVAL")

    def run(self) -> None:
        ensure_maildir(self.path)
        lock = FileLock(f"maildir-{abs(hash(str(self.path.resolve())))}")
        while not lock.acquire():
            log.info("maildir %s is read by another poller; waiting", self.path)
            if self.stop.wait(5):
                return
        log.info("reading alert mail dropped into %s", self.path / "new")
        try:
            while not self.stop.is_set():
                try:
                    if not self.sync():
                        self.stop.wait(self.interval)
                except Exception:  # reported, then retried: the loop never ends silently
                    log.exception("maildir %s: ingest failed; retrying", self.path)
                    self.stop.wait(max(self.interval, 2.0))
                finally:
                    close_old_connections()
        finally:
            lock.release()
            connection.close()

    def sync(self) -> int:
        """Ingest up to one batch from new/; returns how many files were handled."""
        new = self.path / "new"
        names = sorted(n for n in os.listdir(new) if not n.startswith("."))[:BATCH]
        if not names:
            return 0
        already = set(IngestedMessage.objects.filter(origin=Origin.MAILDIR, location__in=names)
                      .values_list("location", flat=True))
        items = []
        for name in names:
            if name in already:
                continue
            try:
                raw = (new / name).read_bytes()
            except FileNotFoundError:
                continue
            items.append(Inbound(raw=raw, origin=Origin.MAILDIR, location=name))
        handled = ingest_messages(items=items, rules=load_rules()) if items else []
        quarantined = {h.inbound.location for h in handled if h.outcome == Outcome.QUARANTINED}
        for name in names:
            target = (self.path / ".Quarantine" / "cur") if name in quarantined else (self.path / "cur")
            try:
                os.replace(new / name, target / f"{name}:2,S")
            except FileNotFoundError:
                pass
        return len(names)

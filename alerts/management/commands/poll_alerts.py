"""``manage.py poll_alerts [--maildir [PATH]] [--folder ID ...]``: the long-lived alert reader.

Reads every enabled IMAP mail folder configured in the admin (one thread each; a lock makes sure
only one poller in the whole installation reads a given mailbox, the others stand by) and, with
--maildir, the local Maildir drop folder. Picks up folders added in the admin while it runs.
Stops on SIGTERM/SIGINT after the current batch; it never exits on its own: failures are logged,
shown on the admin page and retried with backoff.
"""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError, close_old_connections, connection

from alerts.conf import setting
from alerts.models import MailFolder

log = logging.getLogger("opsdesk.alerts.poller")
RESCAN_CONFIG_S = 30
DB_BACKOFF_MIN_S, DB_BACKOFF_MAX_S = 1.0, 30.0


class Command(BaseCommand):
    help = "Read alert mail (IMAP folders from the admin, and/or a Maildir drop folder) into incidents."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--maildir", nargs="?", const=str(settings.OPSDESK_ALERT_MAILDIR), default=None,
                            metavar="PATH", help="also read this Maildir (default: OPSDESK_ALERT_MAILDIR)")
        parser.add_argument("--folder", type=int, action="append", default=[], metavar="ID",
                            help="read only these mail folders (ids); default: every enabled folder")
        parser.add_argument("--no-imap", action="store_true", help="read no IMAP folders")
        parser.add_argument("--parse-workers", type=int, default=None,
                            help="parse large batches in N worker processes (default OPSDESK_ALERT_PARSE_WORKERS)")
        parser.add_argument("--rescan-interval", type=float, default=RESCAN_CONFIG_S, metavar="SECONDS",
                            help="look for folders added or changed in the admin this often (default %(default)s)")

    def handle(self, *args: Any, **options: Any) -> None:
        from alerts.sources.maildir import MaildirPoller

        stop = threading.Event()

        def request_stop(signum, frame):
            log.info("signal %s: stopping after the current batch", signum)
            stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        workers = options["parse_workers"] if options["parse_workers"] is not None else \
            setting("OPSDESK_ALERT_PARSE_WORKERS")
        pool = None
        if workers and workers > 1:
            from alerts.sources.parsepool import ParsePool

            pool = ParsePool(workers)
        threads: dict[str, threading.Thread] = {}

        def start(name: str, target) -> None:
            thread = threading.Thread(target=target, name=name, daemon=True)
            threads[name] = thread
            thread.start()

        if options["maildir"]:
            path = Path(options["maildir"])
            start("maildir", MaildirPoller(path, stop=stop).run)
        warned = False
        rescan = max(0.1, options["rescan_interval"])
        backoff = DB_BACKOFF_MIN_S
        try:
            while not stop.is_set():
                try:
                    self._start_readers(options, threads, start, stop, pool)
                    backoff = DB_BACKOFF_MIN_S
                except DatabaseError as exc:  # e.g. PostgreSQL restarting: the readers cope on their own
                    log.error("database error while checking the configured mail folders: %s: %s; "
                              "reconnecting in %.0f s", exc.__class__.__name__, exc, backoff)
                    connection.close()
                    stop.wait(backoff)
                    backoff = min(backoff * 2, DB_BACKOFF_MAX_S)
                    continue
                except Exception:  # never exit on our own: log it and carry on
                    log.exception("error while checking the configured mail folders; retrying")
                    connection.close()
                    stop.wait(backoff)
                    backoff = min(backoff * 2, DB_BACKOFF_MAX_S)
                    continue
                finally:
                    close_old_connections()
                if not threads and not warned:
                    log.warning("nothing to read yet: add a mail folder in the admin or pass --maildir; "
                                "checking again every %s s", rescan)
                    warned = True
                if "maildir" in threads and not threads["maildir"].is_alive() and not stop.is_set():
                    log.error("maildir reader ended unexpectedly; restarting")
                    start("maildir", MaildirPoller(Path(options["maildir"]), stop=stop).run)
                stop.wait(rescan if threads else min(rescan, 5))
        finally:
            stop.set()
            for thread in threads.values():
                thread.join(timeout=15)
            if pool is not None:
                pool.close()
            connection.close()
            log.info("poller stopped")

    @staticmethod
    def _start_readers(options, threads, start, stop, pool) -> None:
        """Start a reader thread for every enabled folder that has none (or whose thread ended)."""
        from alerts.sources.imap import ImapPoller

        if options["no_imap"]:
            return
        folders = MailFolder.objects.filter(enabled=True, account__enabled=True)
        if options["folder"]:
            folders = folders.filter(pk__in=options["folder"])
        for folder_pk in folders.values_list("pk", flat=True):
            name = f"imap-{folder_pk}"
            if name not in threads or not threads[name].is_alive():
                if name in threads:
                    log.error("poller thread for mail folder %s ended unexpectedly; restarting", folder_pk)
                log.info("reading mail folder %s", folder_pk)
                start(name, ImapPoller(folder_pk, stop=stop, pool=pool).run)

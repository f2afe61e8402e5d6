"""`manage.py poll_alerts` as its own long-lived process, reading the Maildir drop folder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from alerts.models import Incident
from tests.alerts.conftest import ROOT, wait_for
from tests.alerts.test_imap_poller import nagios


def test_poll_alerts_reads_the_maildir_and_stops_cleanly_on_sigterm(transactional_db, tmp_path):
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("postgresql"):
        url = f"postgresql://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    else:
        url = ""  # SQLite: the test database is in memory; this test needs a shared one
        assert url, "run with DATABASE_URL pointing at PostgreSQL (make test does)"
    maildir = tmp_path / "drop"
    log = tmp_path / "poller.log"
    env = {**os.environ, "DATABASE_URL": url, "OPSDESK_VAR_DIR": str(tmp_path / "var"),
           "OPSDESK_ALERT_MAILDIR_INTERVAL": "0.2"}
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "manage.py", "poll_alerts", "--maildir", str(maildir), "--no-imap"],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: (maildir / "new").is_dir() and "reading alert mail" in log.read_text(), timeout=60,
                 message="the poller to start")
        (maildir / "tmp" / "m1").write_bytes(nagios(7, host="szgmapp01"))
        os.rename(maildir / "tmp" / "m1", maildir / "new" / "m1")  # how an MTA delivers into a Maildir
        wait_for(lambda: Incident.objects.filter(host="szgmapp01").exists(), timeout=30, message="the incident")
        assert proc.poll() is None  # still running: it never exits on its own
        assert [p.name for p in Path(maildir / "cur").iterdir()] == ["m1:2,S"]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    assert proc.returncode == 0
    assert "poller stopped" in log.read_text()

"""Fixtures of the alert tests: the corpus, its host catalogue, and the real Dovecot of `make test`."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

from tests.fixtures import ALERT_CORPUS
from tests.helpers import wait_for as wait_for  # the tests of this package import it from here

CORPUS = ALERT_CORPUS
ROOT = Path(__file__).resolve().parents[2]
IMAP_USERS = ["alerts:alerts-secret", "poller2:poller2-secret", "bench:bench-secret"]


def corpus_files() -> list[Path]:
    return sorted(CORPUS.glob("p*.eml"))


@pytest.fixture(scope="session")
def corpus():
    manifest = [json.loads(line) for line in (CORPUS / "manifest.jsonl").read_text().splitlines() if line.strip()]
    sequences = json.loads((CORPUS / "sequences.json").read_text())
    return {"files": corpus_files(), "manifest": {m["file"]: m for m in manifest}, "sequences": sequences}


@pytest.fixture
def catalogue(org):
    """hosts.csv loaded as the production-system catalogue (systems owned by support group G1)."""
    from opsdesk.org.models import Host, ProductionSystem

    systems = {}
    with open(CORPUS / "hosts.csv", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            name = row["system"]
            if name not in systems:
                systems[name] = ProductionSystem.objects.filter(name=name).first() or ProductionSystem.objects.create(
                    code=f"sys{len(systems) + 10}", name=name, owner_group=org.groups[0])
            Host.objects.create(hostname=row["host"], ip_address=row["ip"] or None, os=row["os"], system=systems[name])
    return systems


# --- IMAP ------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def imap_env():
    port = os.environ.get("OPSDESK_TEST_IMAP_PORT")
    if not port:
        pytest.fail("OPSDESK_TEST_IMAP_PORT is not set: run the suite with `make test` (it starts Dovecot)")
    return {"host": "127.0.0.1", "port": int(port), "imaps_port": int(os.environ.get("OPSDESK_TEST_IMAPS_PORT", 0)),
            "dir": os.environ.get("OPSDESK_TEST_IMAP_DIR", "")}


def imap_client(host: str, port: int, user: str = "alerts", password: str = "alerts-secret"):
    from imapclient import IMAPClient

    client = IMAPClient(host, port=port, ssl=False, timeout=30)
    client.login(user, password)
    return client


@pytest.fixture
def mailbox(imap_env):
    """A fresh folder of its own in the `alerts` account (tests stay independent); removed afterwards."""
    name = f"t-{uuid.uuid4().hex[:10]}"
    client = imap_client(imap_env["host"], imap_env["port"])
    client.create_folder(name)
    created = [name]

    class Box:
        folder = name
        processed = f"{name}/done"
        quarantine = f"{name}/quarantine"

        def append(self, raw: bytes) -> None:
            client.append(name, raw)

        def append_many(self, raws: list[bytes]) -> None:
            client.multiappend(name, raws)

        def search(self, criteria="ALL", folder: str | None = None) -> list[int]:
            # A fresh session each time: the test may have rebuilt the folder meanwhile.
            fresh = imap_client(imap_env["host"], imap_env["port"])
            try:
                if not fresh.folder_exists(folder or name):
                    return []
                fresh.select_folder(folder or name, readonly=True)
                return fresh.search(criteria)
            finally:
                fresh.logout()

        def count(self, folder: str | None = None) -> int:
            return len(self.search("ALL", folder))

    yield Box()
    created += [Box.processed, Box.quarantine]
    try:
        for folder in reversed(created):
            if client.folder_exists(folder):
                client.delete_folder(folder)
        client.logout()
    except Exception:
        pass


@pytest.fixture
def mail_folder(db, imap_env, mailbox):
    """A MailFolder row pointing at the test mailbox (plain IMAP on loopback)."""
    from alerts.models import MailAccount, MailFolder

    account = MailAccount.objects.create(name=f"test-{mailbox.folder}", host=imap_env["host"], port=imap_env["port"],
                                         security="plain", username="alerts", password="alerts-secret", timeout=10)
    return MailFolder.objects.create(account=account, name=mailbox.folder, quarantine_folder=mailbox.quarantine,
                                     batch_size=20, poll_interval=1, rescan_interval=3600)


@pytest.fixture
def private_dovecot():
    """A Dovecot of this test's own (to kill and restart without disturbing anyone else)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    directory = tempfile.mkdtemp(prefix="opsdesk-dovecot-", dir="/tmp")
    start = [str(ROOT / "deploy/local/start-dovecot.sh"), directory, str(port), *IMAP_USERS]
    stop = str(ROOT / "deploy/local/stop-dovecot.sh")
    subprocess.run(["bash", *start], check=True, capture_output=True, env={**os.environ, "IMAPS_PORT": "0"})

    class Server:
        host = "127.0.0.1"

        def __init__(self):
            self.port = port
            self.dir = directory

        def crash(self):
            subprocess.run(["bash", stop, directory, "--crash"], check=True, capture_output=True)

        def start(self):
            subprocess.run(["bash", *start], check=True, capture_output=True, env={**os.environ, "IMAPS_PORT": "0"})

    server = Server()
    yield server
    subprocess.run(["bash", stop, directory], capture_output=True)
    subprocess.run(["rm", "-rf", directory], capture_output=True)

"""Alert intake benchmark: 10,000 alert e-mails in Dovecot → de-duplicated incidents on PostgreSQL.

Reports, from one run against the same mailbox:
- the raw IMAP FETCH rate (BODY.PEEK[] in batches: the ceiling),
- sustained ingest rate of the poller (fetch, parse, store, fold into incidents, flag \\Seen),
- APPEND-to-incident latency p50/p95 with the poller in IDLE mode.

Needs DATABASE_URL (PostgreSQL; the bench creates and drops a database of its own) and the Dovecot
of `make services` (OPSDESK_TEST_IMAP_PORT, user bench). `python -m tests.bench alerts [--quick]`.
"""

from __future__ import annotations

import os
import threading
import time
import uuid

from tests.bench.stats import summarize_ms

HOSTS = 250
CHECKS = 8


def _message(n: int, tag: str, *, kind: str = "PROBLEM", host: str | None = None, service: str | None = None) -> bytes:
    key = n % (HOSTS * CHECKS)
    host = host or f"bench-app{key // CHECKS:03d}"
    service = service or f"Check {key % CHECKS}"
    state = "CRITICAL" if kind == "PROBLEM" else "OK"
    return (f"From: nagios@mon.bank.example\r\nTo: alerts@bank.example\r\n"
            f"Subject: ** {kind} Service Alert: {host}/{service} is {state} **\r\n"
            f"Message-ID: <{tag}-{n}@mon.bank.example>\r\nDate: Tue, 12 Mar 2024 10:00:00 +0800\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\n\r\n"
            f"***** Nagios *****\r\n\r\nNotification Type: {kind}\r\n\r\nService: {service}\r\nHost: {host}\r\n"
            f"Address: 10.9.{n % 250}.{n % 200}\r\nState: {state}\r\n\r\nDate/Time: Tue Mar 12 10:00:00 CST 2024\r\n\r\n"
            f"Additional Info:\r\n\r\nCPU load {n % 100} over threshold\r\n").encode()


def run(options) -> dict:
    from django.db import connection
    from imapclient import IMAPClient

    if connection.vendor != "postgresql":
        raise RuntimeError("set DATABASE_URL to a PostgreSQL server")
    port = int(os.environ.get("OPSDESK_TEST_IMAP_PORT", "10143"))
    total = 1000 if options.quick else 10_000
    latency_samples = 20 if options.quick else 60
    workers = int(os.environ.get("OPSDESK_ALERT_PARSE_WORKERS", "2"))
    old_name = connection.settings_dict["NAME"]
    connection.settings_dict.setdefault("TEST", {})["NAME"] = f"opsdesk_bench_alerts_{os.getpid()}"
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    os.environ["OPSDESK_ALERT_BACKOFF_MIN"] = "0.2"
    folder_name = f"bench-{uuid.uuid4().hex[:8]}"
    imap = IMAPClient("127.0.0.1", port=port, ssl=False, timeout=60)
    imap.login("bench", "bench-secret")
    figures: dict = {"messages": total, "parse_workers": workers}
    try:
        from alerts.models import Incident, IngestedMessage, MailAccount, MailFolder
        from alerts.sources.imap import ImapPoller
        from alerts.sources.parsepool import ParsePool

        imap.create_folder(folder_name)
        tag = uuid.uuid4().hex[:8]
        raws = []
        for n in range(total):
            # 2,000 keys: each key's messages fold into one incident; its last message (in the
            # fifth round) is a recovery that resolves it.
            kind = "RECOVERY" if (n // (HOSTS * CHECKS)) % 5 == 4 else "PROBLEM"
            raws.append(_message(n, tag, kind=kind))
        started = time.monotonic()
        for i in range(0, total, 500):
            imap.multiappend(folder_name, raws[i:i + 500])
        figures["append_s"] = round(time.monotonic() - started, 2)
        print(f"   appended {total} messages in {figures['append_s']} s", flush=True)

        # 1. The ceiling: raw FETCH of the same mailbox.
        imap.select_folder(folder_name, readonly=True)
        uids = imap.search("ALL")
        started = time.monotonic()
        fetched = 0
        for i in range(0, len(uids), 500):
            fetched += len(imap.fetch(uids[i:i + 500], ["BODY.PEEK[]"]))
        fetch_s = time.monotonic() - started
        figures["raw_fetch_messages_per_s"] = round(fetched / fetch_s)
        print(f"   raw FETCH: {figures['raw_fetch_messages_per_s']} messages/s", flush=True)

        # 2. Sustained ingest of the whole mailbox into incidents.
        account = MailAccount.objects.create(name="bench", host="127.0.0.1", port=port, security="plain",
                                             username="bench", password="bench-secret", timeout=60)
        folder = MailFolder.objects.create(account=account, name=folder_name, batch_size=500, quarantine_folder="")
        pool = ParsePool(workers) if workers > 1 else None
        if pool is not None:  # start the workers before the clock
            pool.parse([raws[0]] * workers, (), frozenset())
        poller = ImapPoller(folder.pk, pool=pool)
        started = time.monotonic()
        ingested = poller.sync_once()
        ingest_s = time.monotonic() - started
        figures["ingest_messages_per_s"] = round(ingested / ingest_s)
        figures["ingested"] = ingested
        figures["incidents"] = Incident.objects.count()
        figures["problem_occurrences"] = sum(Incident.objects.values_list("occurrences", flat=True))
        print(f"   ingest: {ingested} messages in {ingest_s:.2f} s = {figures['ingest_messages_per_s']} messages/s "
              f"-> {figures['incidents']} incidents", flush=True)
        assert ingested == total, f"ingested {ingested} of {total}"
        assert IngestedMessage.objects.count() == total

        # 3. Latency in IDLE mode: APPEND one message, time until its incident exists.
        stop = threading.Event()
        idle_poller = ImapPoller(folder.pk, stop=stop, pool=pool)
        thread = threading.Thread(target=idle_poller.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while MailFolder.objects.get(pk=folder.pk).status != "idle":
            if time.monotonic() > deadline:
                raise RuntimeError("poller did not reach IDLE")
            time.sleep(0.05)
        latencies = []
        try:
            for n in range(latency_samples):
                host = f"lat-{tag}-{n}"
                raw = _message(total + n, tag, host=host, service="Latency")
                appended = time.monotonic()
                imap.append(folder_name, raw)
                while not Incident.objects.filter(host=host).exists():
                    if time.monotonic() - appended > 60:
                        raise RuntimeError(f"message {n} not ingested within 60 s")
                    time.sleep(0.005)
                latencies.append(time.monotonic() - appended)
                time.sleep(0.1)
        finally:
            stop.set()
            thread.join(15)
            if pool is not None:
                pool.close()
        lat = summarize_ms(latencies)
        figures.update({"append_to_incident_p50_ms": lat["p50_ms"], "append_to_incident_p95_ms": lat["p95_ms"],
                        "append_to_incident_max_ms": round(max(latencies) * 1000, 1), "latency_samples": lat["n"]})
        print(f"   APPEND→incident (IDLE): p50 {lat['p50_ms']} ms, p95 {lat['p95_ms']} ms", flush=True)
    finally:
        try:
            if imap.folder_exists(folder_name):
                imap.delete_folder(folder_name)
            imap.logout()
        except Exception:
            pass
        connection.creation.destroy_test_db(old_name, verbosity=0)
    return figures

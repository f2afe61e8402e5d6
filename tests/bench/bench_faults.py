"""Faults under load: restart PostgreSQL, restart Redis, kill a Celery worker, kill the poller,
stop Dovecot for 30 seconds — one after another while the load of bench_load runs.

    make bench BENCH_ARGS="faults"          # or: python -m tests.bench faults [--quick]

Each fault is a phase: load runs, the fault is injected, load goes on; then the generator pauses,
the desk drains, and what is in the database (and at the SMS gateway) is compared with what the
generator sent in and had acknowledged (ops_load.Ledger): nothing lost, nothing duplicated. Per
phase: errors the users saw and for how long, recovery figures (poller hand-over, time to the
first successful request), and the ledger. A process that exits is restarted after 5 s by the
desk's supervisor, as systemd, compose or Kubernetes would; every exit is listed in the figures. Runs on the private services of ops_services.py, never the shared ones.
"""

from __future__ import annotations

import time
from pathlib import Path

from tests.bench.ops_load import Desk, Load, Rates, cpu_report, cpu_snapshot


def run(options) -> dict:
    before_s, after_s = (8, 25) if options.quick else (20, 45)
    rates = Rates().scaled(0.5) if options.quick else Rates()
    desk = Desk(Path("/tmp/opsdesk-bench/faults"))
    figures: dict = {"offered_per_s": {k: round(v, 2) for k, v in vars(rates).items()},
                     "phase_s": {"load_before_fault": before_s, "load_after_fault": after_s}, "phases": {}}
    try:
        desk.start()
        load = Load(desk, rates, seed=11)
        load.start()
        cpu_before = cpu_snapshot(desk.sessions())
        for name, inject in FAULTS:
            print(f"   phase {name}", flush=True)
            phase_start = time.monotonic()
            exits_before = len(desk.exits)
            load.run_for(before_s)
            fault_at = time.monotonic()
            recovery = {}
            load.running.set()
            try:
                recovery = inject(desk) or {}
            finally:
                remaining = after_s - (time.monotonic() - fault_at)
                load.run_for(max(remaining, 5))
            load.quiesce()
            settled = desk.settle(load.ledger, 120 if options.quick else 240)
            exits = [e["process"] for e in desk.exits[exits_before:]]
            figures["phases"][name] = phase_figures(load, desk, phase_start, fault_at,
                                                    {**recovery, **settled, "processes_that_exited": exits})
            print(f"   {name}: {figures['phases'][name]}", flush=True)
        figures["cpu"] = cpu_report(cpu_before, cpu_snapshot(desk.sessions()))
        figures["process_exits"] = desk.exits
        load.stop()
        figures["http_overall"] = {k: v for k, v in load.figures().items() if k != "endpoints"}
        figures["alert_mail_latency"] = load.ledger.mail_latency(desk)
        final = load.ledger.check(desk)
        figures["final_ledger"] = final
        figures["lost_total"] = sum(final[k] for k in ("requests_lost", "transitions_lost", "incident_acks_lost",
                                                       "mails_lost", "sms_sent_but_not_at_gateway"))
        figures["duplicated_total"] = sum(final[k] for k in ("requests_duplicated", "transitions_duplicated",
                                                             "incident_acks_duplicated", "mails_duplicated",
                                                             "sms_duplicated_at_gateway"))
    finally:
        figures["exit_codes_after_sigterm"] = desk.stop()
    return figures


def phase_figures(load: Load, desk: Desk, start: float, fault_at: float, recovery: dict) -> dict:
    with load.lock:
        window = [s for s in load.samples if s[1] >= start]
    errors = [s for s in window if s[4] == "error"]
    after_fault_ok = [s for s in window if s[1] >= fault_at and s[4] == "ok"]
    last_error = max((s[1] + s[2] for s in errors), default=None)
    ledger = load.ledger.check(desk)
    return {
        **recovery,
        "http_requests": len(window),
        "errors": len(errors),
        "error_statuses": sorted({s[3] for s in errors}),
        "errors_until_s_after_fault": round(last_error - fault_at, 1) if last_error else 0.0,
        "first_success_after_fault_s": round(min(s[1] + s[2] for s in after_fault_ok) - fault_at, 2)
        if after_fault_ok else None,
        "ledger": {k: v for k, v in ledger.items() if k.endswith(("_lost", "_duplicated", "_gateway"))
                   or k in ("requests_acknowledged", "transitions_acknowledged", "mails_accepted_by_mail_server",
                            "incidents", "notifications_by_status",
                            "requests_stored_without_acknowledgement")},
    }


# --- the faults ---------------------------------------------------------------------------------------

def restart_postgres(desk: Desk) -> dict:
    started = time.monotonic()
    desk.services.restart_postgres()
    return {"postgres_restart_s": round(time.monotonic() - started, 1)}


def restart_redis(desk: Desk) -> dict:
    started = time.monotonic()
    desk.services.restart_redis()
    return {"redis_restart_s": round(time.monotonic() - started, 1)}


def kill_celery_worker(desk: Desk) -> dict:
    desk.stack.kill("worker1")  # SIGKILL: tasks in hand die with it; the supervisor restarts it
    return {"killed": "worker1"}


def kill_poller(desk: Desk) -> dict:
    holder = desk.holder()
    if holder is None:
        return {"note": "no poller held the mailbox at the moment of the fault"}
    desk.stack.kill(holder)  # the supervisor brings it back as the stand-by
    handover = desk.wait(lambda: desk.holder() not in (None, holder), 120, "another poller to take the mailbox")
    return {"killed": holder, "handover_s": round(handover, 1)}


def stop_dovecot_30s(desk: Desk) -> dict:
    desk.services.stop_dovecot()
    stopped_at = time.monotonic()
    time.sleep(30)
    desk.services.start_dovecot()
    return {"mail_server_down_s": round(time.monotonic() - stopped_at, 1)}


FAULTS = [
    ("restart_postgres", restart_postgres),
    ("restart_redis", restart_redis),
    ("kill_celery_worker", kill_celery_worker),
    ("kill_poller", kill_poller),
    ("stop_dovecot_30s", stop_dovecot_30s),
]

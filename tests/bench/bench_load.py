"""Load: the article's peak for 5 minutes (`--quick`: 45 s) against the production process shape.

    make bench BENCH_ARGS="load"            # or: python -m tests.bench load [--quick]

Tellers filing and reading requests, county and city support working their queues, operators on
the alert board, and 20 alert e-mails a second through IMAP, all at once (rates in ops_load.Rates).
Reports throughput, p50/p95/p99 latency per endpoint, errors (target: zero; 409 answers to two
people acting on one request at once are counted apart, as conflicts), how long alert mail took from
the mail server to the database, SMS delivery, the machine's CPU and each process kind's share, and
the check that everything acknowledged was stored once.
"""

from __future__ import annotations

import time
from pathlib import Path

from tests.bench.ops_load import Desk, Load, Rates, cpu_report, cpu_snapshot

DURATION_S = 300
QUICK_DURATION_S = 45


def run(options) -> dict:
    duration = QUICK_DURATION_S if options.quick else DURATION_S
    rates = Rates()
    desk = Desk(Path("/tmp/opsdesk-bench/load"))
    figures: dict = {"duration_s": duration, "offered_per_s": {k: round(v, 2) for k, v in vars(rates).items()}}
    try:
        desk.start()
        load = Load(desk, rates)
        load.start()
        warmup = min(15, duration // 5)
        print(f"   warm-up {warmup} s, then {duration} s at peak", flush=True)
        load.run_for(warmup)
        load.samples.clear()
        load.wall_time, load.dropped = 0.0, 0
        before = cpu_snapshot(desk.sessions())
        marks = [(time.monotonic(), before)]  # a CPU reading each minute: does the desk slow as it fills?

        def each_minute(elapsed: float) -> None:
            if elapsed >= 60 * len(marks):
                marks.append((time.monotonic(), cpu_snapshot(desk.sessions())))

        load.run_for(duration, on_tick=each_minute)
        after = cpu_snapshot(desk.sessions())
        marks.append((time.monotonic(), after))
        load.quiesce()
        sms_during_load = desk.services.count("notifications_notification", "status = 'sent'")
        figures["after_load"] = desk.settle(load.ledger, 180 if options.quick else 300)
        load.stop()
        parts = {
            "http": load.figures,
            "cpu": lambda: cpu_report(before, after),
            "by_minute": lambda: by_minute(load, marks),
            "alert_mail": lambda: {"appended_per_s": round(len(load.ledger.mails) / (load.wall_time + warmup), 1),
                                   "mail_server_to_database": load.ledger.mail_latency(desk)},
            "sms_delivery_s": lambda: sms_latency(desk),
            "sms_sent_per_s_during_load": lambda: round(sms_during_load / load.wall_time, 2),
            "consistency": lambda: load.ledger.check(desk),
            "metrics_collect_s": lambda: metrics_collect_time(desk),
        }
        for name, compute in parts.items():
            try:  # one figure failing must not lose the others
                figures[name] = compute()
            except Exception as exc:
                figures[name] = {"error": f"{exc.__class__.__name__}: {exc}"}
    finally:
        figures["process_exits_during_run"] = desk.exits
        figures["exit_codes_after_sigterm"] = desk.stop()
    print_summary(figures)
    return figures


def by_minute(load: Load, marks: list) -> list[dict]:
    """Each minute of the run: requests answered, the worst endpoint's p95, how busy the machine and
    the web processes were."""
    minutes = []
    for (start, cpu_start), (end, cpu_end) in zip(marks, marks[1:], strict=False):
        http, cpu = load.figures(since=start, until=end), cpu_report(cpu_start, cpu_end)
        minutes.append({"requests": http["requests"], "errors": http["errors"],
                        "worst_p95_ms": max((e["p95_ms"] for e in http["endpoints"].values()), default=None),
                        "machine_cpu_busy_percent": cpu["machine_cpu_busy_percent"],
                        "web_cores": cpu["cores_used_by_process"].get("web")})
    return minutes


def sms_latency(desk: Desk) -> dict:
    """Commit → gateway, and the same past the message's intended hold (`not_before`: the group wait
    of OPSDESK_SMS_GROUP_WAIT, a rate limit's digest): the first is what a person waits, the second
    what the delivery machinery adds under load."""
    (waited, delivery, n), = desk.services.sql(
        "SELECT percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY extract(epoch FROM sent_at - created_at)::float8),"
        " percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP"
        " (ORDER BY extract(epoch FROM sent_at - greatest(created_at, not_before))::float8), count(*)"
        " FROM notifications_notification WHERE status = 'sent'")
    figures = {"n": n}
    for prefix, values in (("", waited), ("after_hold_", delivery)):
        figures.update({f"{prefix}p{q}_s": _round(v) for q, v in zip((50, 95, 99), values or (None,) * 3, strict=True)})
    return figures


def metrics_collect_time(desk: Desk) -> float | None:
    import requests

    from tests.project.conftest import parse_metrics

    time.sleep(6)  # past the per-process cache, so this scrape computes the figures anew
    body = requests.get(f"{desk.base}/metrics", timeout=30).text
    return _round(parse_metrics(body).get(("opsdesk_metrics_collect_duration_seconds", frozenset()), None), 3)


def _round(value, digits: int = 2):
    return round(float(value), digits) if value is not None else None


def print_summary(figures: dict) -> None:
    http = figures.get("http")
    if not http:
        return
    print(f"   {http['requests']} HTTP requests, {http['throughput_per_s']}/s, errors {http['errors']}, "
          f"conflicts {http['conflicts_409']}", flush=True)
    for endpoint, row in http["endpoints"].items():
        print(f"   {endpoint:45s} n={row['n']:6d} {row['per_s']:6.2f}/s p50={row['p50_ms']:7.1f} "
              f"p95={row['p95_ms']:7.1f} p99={row['p99_ms']:7.1f} ms errors={row['errors']}", flush=True)
    print(f"   CPU: {figures['cpu']}", flush=True)
    for number, minute in enumerate(figures.get("by_minute") or [], start=1):
        print(f"   minute {number}: {minute}", flush=True)
    print(f"   alert mail: {figures['alert_mail']}", flush=True)
    print(f"   SMS commit → gateway: {figures.get('sms_delivery_s')}", flush=True)
    print(f"   consistency: {figures['consistency']}", flush=True)

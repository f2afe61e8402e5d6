"""Small helpers for benchmark figures."""

from __future__ import annotations

import statistics
import time

__all__ = ["percentile", "summarize_ms", "machine_speed"]


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * pct / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summarize_ms(seconds: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {"n": len(ms), "p50_ms": round(percentile(ms, 50), 2), "p95_ms": round(percentile(ms, 95), 2),
            "p99_ms": round(percentile(ms, 99), 2), "mean_ms": round(statistics.fmean(ms), 2) if ms else 0}


def machine_speed() -> dict[str, float]:
    """How fast this machine is right now, for reading figures from different days side by side: the
    same virtual machine has been seen 1.5x slower one hour than the next (a busy host). The best of
    three of a fixed pure-Python loop (what the web and workers spend their CPU on), and the median
    round trip of `SELECT 1` to the database when DATABASE_URL names PostgreSQL."""
    def loop() -> float:
        started, total = time.perf_counter(), 0
        for i in range(2_000_000):
            total += i
        return time.perf_counter() - started

    figures = {"python_loop_2e6_ms": round(min(loop() for _ in range(3)) * 1000, 1)}
    try:
        from django.db import connection

        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                trips = []
                for _ in range(300):
                    started = time.perf_counter()
                    cursor.execute("SELECT 1")
                    cursor.fetchone()
                    trips.append(time.perf_counter() - started)
            figures["database_round_trip_us"] = round(percentile(trips, 50) * 1e6, 1)
    except Exception as exc:  # a database that is not there yet: the loop figure still says something
        figures["database_round_trip_error"] = f"{exc.__class__.__name__}: {exc}"[:200]
    return figures

"""Run the project's benchmarks and write one JSON file of results: `make bench`.

Every benchmark's figures carry `machine_speed` before and after it (a fixed Python loop, a database
round trip): on a shared virtual machine the same code has measured 1.5x slower from one hour to the
next, and these two say which kind of hour a result comes from.

Each module `tests/bench/bench_<name>.py` defines `run(options) -> dict` returning figures
(numbers, with units in the key names: `p95_ms`, `messages_per_s`, …) and prints them as it goes.
`python -m tests.bench` runs them all; `python -m tests.bench tickets alerts` runs a subset.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsdesk.settings")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--output", default="var/bench/results.json")
    parser.add_argument("--quick", action="store_true", help="smaller data sets, for a smoke run")
    parser.add_argument("--kill-worker", action="store_true",
                        help="notifications: SIGKILL a Celery worker mid-batch and start it again")
    options = parser.parse_args()

    import django

    django.setup()
    from tests.bench.stats import machine_speed
    package = Path(__file__).parent
    available = sorted(m.name[len("bench_"):] for m in pkgutil.iter_modules([str(package)])
                       if m.name.startswith("bench_"))
    names = options.names or available
    unknown = set(names) - set(available)
    if unknown:
        print(f"unknown benchmarks: {', '.join(sorted(unknown))}; available: {', '.join(available)}")
        return 2
    results: dict = {"started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "machine": {
        "python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "benchmarks": {}}
    failed = False
    for name in names:
        print(f"== bench {name}", flush=True)
        module = importlib.import_module(f"tests.bench.bench_{name}")
        speed = machine_speed()
        print(f"   machine speed before: {speed}", flush=True)
        started = time.monotonic()
        try:
            figures = module.run(options)
        except Exception as exc:  # one broken benchmark must not hide the others' figures
            failed = True
            figures = {"error": f"{exc.__class__.__name__}: {exc}"}
            print(f"   FAILED: {figures['error']}", flush=True)
        figures["wall_s"] = round(time.monotonic() - started, 2)
        figures["machine_speed"] = {"before": speed, "after": machine_speed()}
        results["benchmarks"][name] = figures
        print(json.dumps({name: figures}, ensure_ascii=False, indent=1), flush=True)
    output = Path(options.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, ensure_ascii=False, indent=2))
    print(f"results written to {output}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

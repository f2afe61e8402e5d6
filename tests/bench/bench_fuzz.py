"""API fuzzing: schemathesis against /api/schema/, authenticated as each role. Target: no 5xx.

    make bench BENCH_ARGS="fuzz"            # or: python -m tests.bench fuzz [--quick]

Runs gunicorn on the benchmark's private PostgreSQL (its own database, seeded with the demo
organisation), then for each role runs `schemathesis run` with the `not_a_server_error` check:
every operation of the OpenAPI schema, with generated valid and invalid input (examples per
operation: 25 within 10 minutes a role; `--quick`: 5 within 90 s). Bad input must get a clear 4xx, never a 500. The JUnit report of each
role is kept under var/bench/fuzz/.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.bench.ops_services import PrivateServices
from tests.project.stack import ROOT, Stack, free_port

ROLES = ("teller", "county_support", "city_support", "dispatcher", "group_member", "group_lead", "operator",
         "manager", "administrator")

TOKENS = r"""
import json
from knox.models import AuthToken
from opsdesk.org.models import User
out = {}
for role in %(roles)s:
    person = User.objects.filter(is_active=True, roles__contains=[role]).order_by("pk").first()
    if person:
        out[role] = AuthToken.objects.create(user=person)[1]
print("TOKENS " + json.dumps(out))
"""


def run(options) -> dict:
    examples, budget_s = (5, 90) if options.quick else (25, 600)
    # A cluster of its own: the fuzzer's writes never meet the load benchmarks' figures.
    services = PrivateServices(Path("/tmp/opsdesk-bench/fuzz-services"), pg_port=5443, database="opsdesk_fuzz",
                               cluster="opsdesk-fuzz")
    workdir = Path("/tmp/opsdesk-bench/fuzz")
    reports = ROOT / "var" / "bench" / "fuzz"
    reports.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {"DATABASE_URL": services.database_url, "CELERY_BROKER_URL": "", "OPSDESK_VAR_DIR": str(workdir / "var")}
    figures: dict = {"max_examples_per_operation": examples, "time_budget_per_role_s": budget_s, "roles": {}}
    stack = None
    try:
        services.workdir.mkdir(parents=True, exist_ok=True)
        services.start_postgres()
        manage(env, "migrate", "--noinput")
        manage(env, "seed_org", "--scale", "demo")
        tokens = json.loads(manage(env, "shell", "-c", TOKENS % {"roles": list(ROLES)}).split("TOKENS ", 1)[1])
        stack = Stack(workdir / "stack", env)
        stack.web(port, workers=3)
        base = f"http://127.0.0.1:{port}"
        wait_ready(base)
        schemathesis = str(Path(sys.executable).parent / "schemathesis")
        for role, token in tokens.items():
            junit = reports / f"{role}.xml"
            started = time.monotonic()
            result = subprocess.run(
                [schemathesis, "run", f"{base}/api/schema/", "--url", f"{base}/api/", "-H", f"Authorization: Token {token}",
                 "--checks", "not_a_server_error", "--max-examples", str(examples), "--seed", "20261126",
                 "--workers", "2", "--request-timeout", "30", "--max-time", str(budget_s), "--report", "junit", "--report-junit-path", str(junit),
                 "--warnings", "off", "--no-color"],
                capture_output=True, text=True, timeout=1800, cwd=ROOT)
            outcome = read_junit(junit)
            outcome["wall_s"] = round(time.monotonic() - started, 1)
            outcome["exit_code"] = result.returncode
            if outcome["failures"]:
                outcome["output_tail"] = result.stdout[-3000:]
            figures["roles"][role] = outcome
            print(f"   {role:15s} operations={outcome['operations']} failures={outcome['failures']} "
                  f"fuzzer_errors={len(outcome['fuzzer_errors'])} ({outcome['wall_s']} s)", flush=True)
        figures["server_errors_total"] = sum(r["failures"] for r in figures["roles"].values())
        figures["fuzzer_errors_total"] = sum(len(r["fuzzer_errors"]) for r in figures["roles"].values())
        figures["server_5xx_in_log"] = count_5xx(stack)
    finally:
        if stack is not None:
            stack.stop_all(timeout=30)
            stack.cleanup()
        services.stop_postgres()
    return figures


def manage(env: dict, *args: str) -> str:
    import os

    result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, capture_output=True, text=True,
                            timeout=600, env={**os.environ, "DJANGO_SETTINGS_MODULE": "opsdesk.settings", **env})
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {args[0]}: {result.stderr[-2000:]}")
    return result.stdout


def wait_ready(base: str, timeout: float = 90) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/readyz", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise RuntimeError("gunicorn did not become ready")


def read_junit(path: Path) -> dict:
    """Per role: `failures` are the checks that failed (a 5xx answer: the target is none); `fuzzer_errors`
    are operations the fuzzer itself could not run (its JUnit <error>: a crash in schemathesis or
    Hypothesis, no request judged), listed apart so they are neither hidden nor counted as the desk's."""
    if not path.exists():
        return {"operations": 0, "failures": 0, "failed_operations": [], "fuzzer_errors": [], "note": "no report written"}
    root = ET.parse(path).getroot()
    failed, errored, total = [], [], 0
    for case in root.iter("testcase"):
        total += 1
        for node, into in ((case.find("failure"), failed), (case.find("error"), errored)):
            if node is not None:
                into.append({"operation": case.get("name"), "message": (node.get("message") or node.text or "")[:300]})
    return {"operations": total, "failures": len(failed), "failed_operations": failed, "fuzzer_errors": errored}


def count_5xx(stack: Stack) -> int:
    """Server errors gunicorn logged (Django logs every 500 with its traceback)."""
    text = stack.procs["web"].log.read_text(errors="replace")
    return text.count("Internal Server Error:")

"""The demo shows the whole desk working: `seed_org --scale demo` also sets up SLA policies per
type and level, an escalation chain, duty rosters for every unit that receives work, and a few
parsing rules; and `PORT=` chooses the port `make run` serves on."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from django.core.management import call_command
from django.utils import timezone

from alerts.services import load_rules
from alerts.teaching import rule_trial
from notifications.models import Duty, DutyShift, EscalationPolicy, SlaPolicy
from notifications.roster import on_duty
from opsdesk.org.choices import Role, UnitKind
from opsdesk.org.models import Unit
from opsdesk.org.seeding import DEMO_PASSWORD
from tests.helpers import wait_for
from tests.tickets.helpers import ensure_types
from tickets.choices import BuiltinType

ROOT = Path(__file__).resolve().parents[2]
LEVELS = (UnitKind.COUNTY, UnitKind.CITY, UnitKind.OPERATIONS, UnitKind.SUPPORT_GROUP)


@pytest.mark.django_db
def test_the_demo_seeds_policies_chains_rosters_and_rules(capsys):
    ensure_types()
    call_command("seed_org", "--scale", "demo")
    out = capsys.readouterr().out
    assert "SLA policies +21" in out and "duty shifts +" in out

    for code in BuiltinType.values:
        for level in LEVELS:
            policy = SlaPolicy.objects.get(request_type=code, level=level, is_active=True)
            assert 0 < policy.first_response_minutes < policy.resolution_minutes
    assert SlaPolicy.objects.get(request_type=BuiltinType.FAULT_REPORT, level=UnitKind.COUNTY).auto_escalate
    assert SlaPolicy.objects.filter(request_type="", level="").exists()  # the fallback for anything else

    chain = EscalationPolicy.objects.get(is_active=True)
    assert chain.applies_to("critical") and chain.applies_to("major") and not chain.applies_to("minor")
    assert [s.role for s in chain.steps.order_by("order")] == [Role.OPERATOR, Role.DISPATCHER, Role.MANAGER]

    now = timezone.now()
    for unit in Unit.objects.filter(kind__in=LEVELS):
        regular, _substitutes = on_duty(unit, now, duty=Duty.REQUESTS)
        assert regular, f"nobody on duty now at {unit}"
        assert all(p.unit_id == unit.pk for p in regular)
        # Two weeks ahead: someone is on duty at any hour.
        assert on_duty(unit, now + timezone.timedelta(days=13, hours=5), duty=Duty.REQUESTS)[0]
    # The operations department keeps two rosters: dispatchers for requests, operators for alarms.
    ops = Unit.objects.get(kind=UnitKind.OPERATIONS)
    crews = {duty: {s.person for s in DutyShift.objects.filter(unit=ops, duty=duty)} for duty in Duty.values}
    assert crews[Duty.REQUESTS] and all(p.has_role(Role.DISPATCHER) for p in crews[Duty.REQUESTS])
    assert crews[Duty.ALERTS] and all(p.has_role(Role.OPERATOR) for p in crews[Duty.ALERTS])
    assert not DutyShift.objects.filter(duty=Duty.ALERTS).exclude(unit=ops).exists()
    assert on_duty(ops, now, duty=Duty.ALERTS)[0]

    rules = load_rules()
    assert len(rules) >= 3
    env_mail = ("From: envmon@bank.example\r\nSubject: [动环] 严重 UPS01 告警\r\n\r\n设备: ups-room1\r\n温度 45℃\r\n").encode()
    trial = rule_trial(env_mail, next(r for r in rules if r.name == "机房动环监控"))
    reading = trial.with_rules.result
    assert reading is not None and reading.is_alert, trial.with_rules.error
    assert reading.alerts[0].host == "ups-room1" and reading.alerts[0].severity == "major"
    assert trial.with_rules.matched_rule == "机房动环监控"

    # Idempotent: a second run creates nothing more.
    call_command("seed_org", "--scale", "demo")
    again = capsys.readouterr().out
    assert "SLA policies +0" in again and "duty shifts +0" in again and "parsing rules +0" in again


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_demo_web_process_listens_on_port_and_a_403_is_one_console_line(tmp_path):
    """`make run` starts deploy/Procfile.dev with honcho, which hands $PORT to the web process; a
    refused page is one line in its console, not a traceback."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}}
    env.update(PORT=str(port), OPSDESK_VAR_DIR=str(tmp_path / "var"), DJANGO_HTTPS="false")
    for step in (["migrate", "--noinput"], ["seed_org", "--scale", "demo"]):
        done = subprocess.run([sys.executable, "manage.py", *step], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
    console = tmp_path / "console.log"
    with console.open("w") as out:
        web = subprocess.Popen([str(ROOT / ".venv/bin/honcho"), "-f", "deploy/Procfile.dev", "start", "web"],
                               cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        def answers() -> bool:
            try:
                return requests.get(f"{base}/healthz", timeout=1).ok
            except requests.ConnectionError:
                assert web.poll() is None, console.read_text()[-2000:]
                return False

        wait_for(answers, timeout=30, message=f"the web process on port {port}")
        session = requests.Session()
        session.get(f"{base}/accounts/login/")
        session.post(f"{base}/accounts/login/", data={
            "username": "teller-gz01-001-1", "password": DEMO_PASSWORD, "csrfmiddlewaretoken": session.cookies["csrftoken"],
        }, headers={"Referer": f"{base}/accounts/login/"})
        refused = session.get(f"{base}/notifications/log/")
        assert refused.status_code == 403 and "无权" in refused.text and 'class="topbar"' in refused.text
        wait_for(lambda: "/notifications/log/" in console.read_text(), message="the refusal in the console")
    finally:
        os.killpg(web.pid, signal.SIGTERM)
        web.wait(timeout=15)
    text = console.read_text()
    assert "Forbidden" in text and "Traceback" not in text, text[-3000:]
    makefile = (ROOT / "Makefile").read_text()
    assert "PORT ?= 8000" in makefile and "run: export PORT" in makefile

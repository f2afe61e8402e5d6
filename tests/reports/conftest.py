"""A small hand-made history, built through the real workflow at known moments.

Local time is Asia/Shanghai. The requests (R1–R4) and incidents, step by step:

R1 teller1 (O1, K1, C1), fault report on core
   Nov 2 09:00 filed · 09:30 county1 claims · 10:00 county1 answers · 11:00 teller1 confirms, rating 5
R2 teller1, fault report on core
   Nov 2 09:10 filed · 13:00 county1 escalates · Nov 3 09:00 city1 escalates · 10:00 dispatcher dispatches
   to G1 · 11:00 member1 transfers to G2 · 15:00 member2 completes · 16:00 dispatcher returns it for rework
   · Nov 4 10:00 member2 completes · 11:00 dispatcher approves · 12:00 city1 passes down · 13:00 county1
   passes down · Nov 5 09:00 teller1 confirms, rating 3
R3 teller8 (O8, K4, C2), business consultation
   Nov 2 10:00 filed · 12:00 county4 escalates · 14:00 city2 answers · 15:00 county4 passes down · 16:00
   teller8 rejects · Nov 3 10:00 city2 answers again · 11:00 county4 passes down (left unconfirmed: open)
R4 teller1, operation consultation
   Nov 3 09:00 filed · 10:00 county1 asks for information · 11:00 teller1 provides it (left open at K1)
Incidents (core system hosts)
   Nov 2 09:00 core-db01 oracle critical (db) opens · 09:10 operator acknowledges · 09:40 recovers
   Nov 3 10:00 core-app01 process major (app_process) opens · 10:30 recovers

SLA: one policy, resolution within 240 minutes at every level. "Now" for the backlog: Nov 6 09:00.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from alerts import services as alert_services
from alerts.models import Incident
from alerts.parsing import Alert as ParsedAlert
from notifications.models import SlaPolicy
from tests.factories import make_host
from tests.tickets.helpers import FAULT_DATA, act, file_request

TZ = ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=TZ)


NOW = at(6, 9)


def _alert(host: str, check: str, severity: str, category: str, status: str) -> ParsedAlert:
    return ParsedAlert(source="nagios", host=host, check=check, severity=severity, status=status,
                       category=category, dedup_key=f"nagios|{host}|{check}", message=f"{check} {status}")


@pytest.fixture
def history(org):
    p = org.people
    SlaPolicy.objects.all().delete()
    SlaPolicy.objects.create(name="默认", request_type="", level="", first_response_minutes=60,
                             resolution_minutes=240)
    make_host(org.systems[0], "core-db01")
    make_host(org.systems[0], "core-app01")
    core = org.systems[0]
    teller, teller8 = p["teller"], p["teller_other"]
    with time_machine.travel(at(2, 9), tick=False) as clock:
        r1 = file_request(teller, "fault_report", system=core, data=dict(FAULT_DATA, occurred_at="2026-11-01T09:00"))
        alert_services.ingest_alerts(alerts=[_alert("core-db01", "oracle", "critical", "db", "problem")], raw=b"x1")
        clock.move_to(at(2, 9, 10))
        r2 = file_request(teller, "fault_report", system=core, data=dict(FAULT_DATA, occurred_at="2026-11-01T09:00"))
        incident = Incident.objects.get(host="core-db01")
        alert_services.incident_acknowledge(actor=p["operator"], incident_pk=incident.pk)
        clock.move_to(at(2, 9, 30))
        act(r1, "claim", p["county"])
        clock.move_to(at(2, 9, 40))
        alert_services.ingest_alerts(alerts=[_alert("core-db01", "oracle", "critical", "db", "recovery")], raw=b"x2")
        clock.move_to(at(2, 10))
        act(r1, "answer", p["county"], "请重启终端")
        r3 = file_request(teller8, "business_consultation", data={"question": "利率怎么算"})
        clock.move_to(at(2, 11))
        act(r1, "confirm", teller, rating=5)
        clock.move_to(at(2, 12))
        act(r3, "escalate", p["county_other"], "县里答不了")
        clock.move_to(at(2, 13))
        act(r2, "escalate", p["county"], "县里处理不了")
        clock.move_to(at(2, 14))
        act(r3, "answer", p["city_other"], "按章程计算")
        clock.move_to(at(2, 15))
        act(r3, "pass_down", p["county_other"])
        clock.move_to(at(2, 16))
        act(r3, "reject", teller8, "没有说清楚")
        clock.move_to(at(3, 9))
        act(r2, "escalate", p["city"], "地市处理不了")
        r4 = file_request(teller, "operation_consultation", data={"question": "怎么冲正"})
        clock.move_to(at(3, 10))
        act(r2, "dispatch", p["dispatcher"], group=org.groups[0])
        act(r3, "answer", p["city_other"], "补充说明")
        act(r4, "ask_info", p["county"], "哪笔交易？")
        alert_services.ingest_alerts(alerts=[_alert("core-app01", "process", "major", "app_process", "problem")],
                                     raw=b"x3")
        clock.move_to(at(3, 10, 30))
        alert_services.ingest_alerts(alerts=[_alert("core-app01", "process", "major", "app_process", "recovery")],
                                     raw=b"x4")
        clock.move_to(at(3, 11))
        act(r2, "transfer", p["member"], "是信贷的问题", group=org.groups[1])
        act(r3, "pass_down", p["county_other"])
        act(r4, "provide_info", teller, "流水号 123")
        clock.move_to(at(3, 15))
        act(r2, "complete", p["member_other"], "已修复")
        clock.move_to(at(3, 16))
        act(r2, "return_for_rework", p["dispatcher"], "请写清楚原因")
        clock.move_to(at(4, 10))
        act(r2, "complete", p["member_other"], "已修复，原因是参数错误")
        clock.move_to(at(4, 11))
        act(r2, "approve", p["dispatcher"])
        clock.move_to(at(4, 12))
        act(r2, "pass_down", p["city"])
        clock.move_to(at(4, 13))
        act(r2, "pass_down", p["county"])
        clock.move_to(at(5, 9))
        act(r2, "confirm", teller, rating=3)
    return {"r1": r1, "r2": r2, "r3": r3, "r4": r4}


@pytest.fixture
def now():
    with time_machine.travel(NOW, tick=False):
        yield NOW


RANGE = {"date_from": "2026-11-02", "date_to": "2026-11-05"}

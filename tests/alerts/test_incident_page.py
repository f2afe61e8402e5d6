"""The incident page an operator acts from: Chinese state names, the actions as buttons (through
alerts.services), the history in plain words, the check as the tool wrote it; and the searchable
list of resolved incidents with numbered pages."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from alerts.models import Incident
from alerts.services import Inbound, ingest_messages
from tests.alerts.test_imap_poller import nagios

pytestmark = pytest.mark.django_db


def opened(n: int = 1, **kwargs) -> Incident:
    ingest_messages(items=[Inbound(raw=nagios(n, **kwargs), origin="upload")])
    return Incident.objects.order_by("-pk").first()


def text_of(response) -> str:
    """The page as a person reads it: tags dropped, whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def act(client, incident, name, **data):
    url = reverse("alerts:incident_act", args=[incident.pk, name])
    if name in ("acknowledge", "resolve", "reopen"):
        incident.refresh_from_db()
        data = {f"{name}-version": incident.version, **{f"{name}-{k}": v for k, v in data.items()}}
    return client.post(url, data, follow=True)


def test_an_operator_acts_on_the_incident_page_and_reads_its_history_in_chinese(org, client):
    incident = opened(service="Oracle Listener")
    operator = org.people["operator"]
    client.force_login(operator)
    page = text_of(client.get(reverse("alerts:incident", args=[incident.pk])))
    # The check as the tool wrote it (the de-duplication key stays normalised).
    assert "Oracle Listener" in page and incident.check_name == "oracle listener"
    assert "未处理" in page
    for button in ("确认", "解决", "静默", "添加备注"):
        assert button in page, button

    after = text_of(act(client, incident, "acknowledge", comment="正在联系数据库组"))
    assert "已确认" in after and "正在联系数据库组" in after
    assert f"{operator}" in after and "未处理 → 已确认" in after
    assert "open → acknowledged" not in after and "acknowledge" not in after

    noted = text_of(client.post(reverse("alerts:incident_act", args=[incident.pk, "note"]),
                                {"text": "DBA 已重启监听"}, follow=True))
    assert "DBA 已重启监听" in noted and "添加了备注" in noted

    silenced = text_of(client.post(reverse("alerts:incident_act", args=[incident.pk, "silence"]),
                                   {"minutes": 30, "reason": "数据库维护"}, follow=True))
    assert "静默至" in silenced and "数据库维护" in silenced

    resolved = text_of(act(client, incident, "resolve"))
    assert "已解决" in resolved and "已确认 → 已解决" in resolved
    incident.refresh_from_db()
    assert incident.state == "resolved" and incident.resolved_by == operator
    # The alert that opened it is in the history too, in words.
    assert "收到 1 条告警（故障，致命）" in resolved and "监控系统" in resolved


def test_a_stale_button_is_refused_in_words_and_a_person_off_the_board_may_not_act(org, client):
    incident = opened()
    client.force_login(org.people["operator"])
    stale = incident.version
    client.post(reverse("alerts:incident_act", args=[incident.pk, "acknowledge"]), {"acknowledge-version": stale})
    again = text_of(client.post(reverse("alerts:incident_act", args=[incident.pk, "resolve"]),
                                {"resolve-version": stale}, follow=True))
    assert "其他人已先修改了这个事件" in again
    assert Incident.objects.get(pk=incident.pk).state == "acknowledged"

    client.force_login(org.people["manager"])  # reads incidents, does not act
    refused = client.post(reverse("alerts:incident_act", args=[incident.pk, "resolve"]),
                          {"resolve-version": stale + 1})
    assert refused.status_code == 403 and "只有告警看板的值班人员可以处理事件" in refused.content.decode()
    assert 'data-action="resolve"' not in client.get(reverse("alerts:incident", args=[incident.pk])).content.decode()


def test_a_flapping_incident_says_so_in_its_history(org, client):
    for n, kind in enumerate(("PROBLEM", "RECOVERY", "PROBLEM", "RECOVERY"), start=1):
        ingest_messages(items=[Inbound(raw=nagios(n, kind=kind, state="CRITICAL" if kind == "PROBLEM" else "OK",
                                                  service="Disk"), origin="upload")])
    incident = Incident.objects.order_by("pk").last()
    client.force_login(org.people["operator"])
    page = text_of(client.get(reverse("alerts:incident", args=[incident.pk])))
    assert "抖动" in page and "flapping" not in page


def resolved_incident(n: int, *, host="szhxdb01", check="disk", summary="", system=None, day=None) -> Incident:
    at = day or timezone.now() - dt.timedelta(hours=n)
    incident = Incident.objects.create(dedup_key=f"script|{host}|{check}|{n}", source="script", host=host,
                                       check_name=check.lower(), check_label=check, category="os",
                                       severity="major", system=system, summary=summary or f"value {n}",
                                       first_seen=at, last_seen=at)
    Incident.objects.filter(pk=incident.pk).update(state="resolved", resolved_at=at + dt.timedelta(minutes=5))
    return incident


def test_resolved_incidents_are_searchable_with_numbered_pages(org, client):
    for n in range(1, 56):
        resolved_incident(n)
    core = resolved_incident(100, host="szhxapp07", check="Batch HXBATCH", summary="日终批量超时",
                             system=org.systems[0])
    old = resolved_incident(101, host="szhxdb09", check="CPU", day=timezone.now() - dt.timedelta(days=40))
    opened(service="Still open")
    client.force_login(org.people["operator"])
    url = reverse("alerts:incidents_resolved")

    first = client.get(url)
    body = text_of(first)
    assert first.status_code == 200 and "已解决的事件" in body and "57 个事件" in body
    assert first.content.decode().count('<tr data-id="') == 50
    assert 'href="?page=2"' in first.content.decode()
    assert "Still open" not in body
    second = client.get(url, {"page": 2})
    assert second.content.decode().count('<tr data-id="') == 7

    def found(**query) -> set[int]:
        response = client.get(url, query)
        assert response.status_code == 200
        return {int(pk) for pk in re.findall(r'<tr data-id="(\d+)"', response.content.decode())}

    assert found(host="HXAPP") == {core.pk}
    assert found(check="batch hx") == {core.pk}  # any case; shown as written
    assert "Batch HXBATCH" in text_of(client.get(url, {"check": "batch"}))
    assert found(system=org.systems[0].code) == {core.pk}
    assert found(text="批量超时") == {core.pk}
    day = timezone.localdate(old.first_seen)
    assert found(since=day.isoformat(), until=day.isoformat()) == {old.pk}
    # Paging keeps the search.
    many = client.get(url, {"host": "szhxdb01"}).content.decode()
    assert 'href="?host=szhxdb01&amp;page=2"' in many

    bad = client.get(url, {"since": "2026-12-01", "until": "2026-11-01"})
    assert bad.status_code == 400 and "结束日期早于开始日期" in bad.content.decode()

    client.force_login(org.people["teller"])
    refused = client.get(url)
    assert refused.status_code == 403 and "只有告警看板的值班人员和中心的管理人员可以查看事件" in refused.content.decode()

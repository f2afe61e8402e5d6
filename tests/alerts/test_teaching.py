"""Operators teach the desk (a correction becomes a rule, tried on recent mail, applied with an
audit entry); administrators bind a mailbox or a sender to a tool; an unsure reading is a problem
flagged "needs review", never a recovery."""

from __future__ import annotations

import base64

import pytest

from alerts.models import Incident, IncidentEvent, IngestedMessage, ParsingRule, RuleChange, SourceBinding
from alerts.services import Inbound, ingest_messages
from opsdesk.org.choices import Role
from tests.factories import make_person

pytestmark = pytest.mark.django_db


def script_mail(n: int, *, host: str = "szqzapp02", level: str = "一般", body_host: str | None = None,
                sender: str = "monitor@szqzapp02.bank.example", subject: str | None = None,
                charset: str | None = "utf-8", text: str | None = None) -> bytes:
    """An in-house script's mail: level word in the subject, host named in the subject."""
    subject = subject if subject is not None else f"[{level}] {host} 进程qzsvr不存在"
    text = text if text is not None else (f"主机: {body_host or host}\n告警级别: {level}\n告警内容: 进程qzsvr不存在\n"
                                          f"时间: 2026-12-01 10:{n:02d}:00\n")
    ctype = f"text/plain; charset={charset}" if charset else "text/plain"
    head = (f"From: {sender}\nTo: alerts@dc.bank.example\nSubject: =?utf-8?b?"
            f"{base64.b64encode(subject.encode()).decode()}?=\n"
            f"Date: Tue, 01 Dec 2026 10:{n:02d}:00 +0800\nMessage-ID: <s{n}.{host}@bank.example>\n"
            f"MIME-Version: 1.0\nContent-Type: {ctype}\nContent-Transfer-Encoding: 8bit\n\n")
    return head.encode() + text.encode(charset or "gbk")


def ingest(*raws: bytes, folder_id: int | None = None):
    return ingest_messages(items=[Inbound(raw=r, origin="upload") for r in raws])


def teach_page(client, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return client.get(f"/alerts/teach/?{query}")


def test_operator_corrects_a_severity_and_the_rule_reads_the_next_mail_right(org, client):
    ingest(script_mail(1), script_mail(2, host="szqzapp03"),
           script_mail(3, host="szhxdb01", sender="db@szhxdb01.bank.example", subject="[一般] szhxdb01 表空间使用率95%"))
    incident = Incident.objects.get(host="szqzapp02")
    assert incident.severity == "minor"
    operator = org.people["operator"]
    client.force_login(operator)

    page = teach_page(client, incident=incident.pk)
    assert page.status_code == 200
    assert "进程qzsvr不存在" in page.content.decode()
    preview = client.post("/alerts/teach/", {"incident": incident.pk, "step": "preview", "host": "szqzapp02",
                                             "check": incident.check_name, "severity": "critical",
                                             "status": "problem", "category": incident.category, "last": 50})
    assert preview.status_code == 200
    tested = preview.context["tested"]
    changed = {row.subject for row in tested.changed}
    # The same script's mail changes (both hosts); the database's mail from another sender does not.
    assert tested.tested == 3 and len(tested.changed) == 2
    assert all("进程qzsvr" in s for s in changed)
    proposed = preview.context["rule_form"].initial
    assert proposed["mode"] == "correct" and proposed["set_severity"] == "critical"
    assert "szqzapp02" in proposed["match_sender"]

    applied = client.post("/alerts/teach/", {**{k: v for k, v in proposed.items() if v}, "incident": incident.pk,
                                             "step": "apply"})
    assert applied.status_code == 302, applied.content.decode()[:2000]
    rule = ParsingRule.objects.get()
    assert (rule.mode, rule.set_severity, rule.created_by) == ("correct", "critical", operator)
    change = RuleChange.objects.get()
    assert (change.action, change.actor, change.incident_id) == ("created", operator, incident.pk)
    assert change.tested["changed"] == 2 and change.after["set_severity"] == "critical"
    incident.refresh_from_db()
    assert incident.severity == "critical"
    assert IncidentEvent.objects.filter(incident=incident, action="corrected", actor=operator).exists()

    ingest(script_mail(9, host="szqzapp05"))
    assert Incident.objects.get(host="szqzapp05").severity == "critical"


def test_a_quarantined_mail_is_taught_its_host_and_is_read_again(org, client):
    # The script names its host only in a "机器" line the reader does not know; no host-like token.
    raw = script_mail(4, subject="应用巡检告警 批量作业失败", text="机器 corebatch\n作业 hxbatch 失败\n")
    ingest(raw)
    message = IngestedMessage.objects.get()
    assert message.outcome in ("quarantined", "not_alert")
    client.force_login(org.people["operator"])
    preview = client.post("/alerts/teach/", {"message": message.pk, "step": "preview", "host": "corebatch",
                                             "check": "batch hxbatch", "severity": "major", "status": "problem",
                                             "category": "app_process", "last": 20})
    assert preview.status_code == 200, preview.content.decode()[:3000]
    proposed = preview.context["rule_form"].initial
    assert proposed["mode"] == "extract"
    assert "(?P<host>" in proposed["extract_body"]  # the host is read from where the mail writes it
    applied = client.post("/alerts/teach/", {**{k: v for k, v in proposed.items() if v}, "message": message.pk,
                                             "step": "apply"})
    assert applied.status_code == 302
    message.refresh_from_db()
    if message.outcome == "alert":  # a quarantined mail is re-processed at once
        assert Incident.objects.get().host == "corebatch"
    ingest(script_mail(5, subject="应用巡检告警 批量作业失败", text="机器 acctbatch\n作业 hxbatch 失败\n"))
    assert Incident.objects.filter(host="acctbatch", severity="major", check_name="batch hxbatch").exists()


def test_nothing_corrected_is_refused_and_a_teller_may_not_teach(org, client):
    ingest(script_mail(1))
    incident = Incident.objects.get()
    client.force_login(org.people["teller"])
    assert teach_page(client, incident=incident.pk).status_code == 403
    client.force_login(org.people["operator"])
    same = client.post("/alerts/teach/", {"incident": incident.pk, "step": "preview", "host": incident.host,
                                          "check": incident.check_name, "severity": incident.severity,
                                          "status": "problem", "category": incident.category, "last": 10})
    assert same.status_code == 400
    assert "Nothing was corrected" in same.content.decode() or "没有" in same.content.decode()
    assert teach_page(client, incident=999999).status_code == 404
    assert teach_page(client, incident="abc").status_code == 404
    assert not ParsingRule.objects.exists()


def test_a_rule_edited_in_the_admin_is_audited(org, client):
    admin = make_person(org.province, Role.ADMINISTRATOR, username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    data = {"name": "aix-level", "priority": 50, "enabled": "on", "mode": "correct",
            "match_sender": "aix", "set_severity": "major", "source": "script"}
    response = client.post("/admin/alerts/parsingrule/add/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    rule = ParsingRule.objects.get()
    client.post(f"/admin/alerts/parsingrule/{rule.pk}/change/", {**data, "set_severity": "critical"})
    client.post(f"/admin/alerts/parsingrule/{rule.pk}/delete/", {"post": "yes"})
    actions = list(RuleChange.objects.order_by("pk").values_list("action", "actor", "rule_name"))
    assert actions == [("created", admin.pk, "aix-level"), ("changed", admin.pk, "aix-level"),
                       ("deleted", admin.pk, "aix-level")]
    assert RuleChange.objects.order_by("pk")[1].before["set_severity"] == "major"


# --- bound sources ---------------------------------------------------------------------------------

def test_a_sender_bound_with_a_charset_and_a_priority_table(org):
    SourceBinding.objects.create(name="aix scripts", sender="*@szqzapp02.bank.example", charset="gbk",
                                 priorities={"一般": "critical"})
    ingest(script_mail(1, charset=None))  # GBK bytes, no charset declared
    incident = Incident.objects.get()
    assert incident.check_name.startswith("process") or "qzsvr" in incident.check_name
    assert "进程qzsvr不存在" in incident.summary or "qzsvr" in incident.summary
    assert incident.severity == "critical"  # the source's own table: its 一般 is an outage
    ingest(script_mail(2, host="szqzapp09", sender="monitor@szqzapp09.bank.example"))
    assert Incident.objects.get(host="szqzapp09").severity == "minor"  # unbound: the default table


def test_a_folder_bound_to_a_tool_quarantines_what_that_tool_cannot_read(org, mail_folder_row):
    SourceBinding.objects.create(name="zabbix box", tool="zabbix", folder=mail_folder_row)
    notice = script_mail(1, subject="巡检通知", text="今日巡检已完成。\n")
    item = Inbound(raw=notice, origin="imap", folder_id=mail_folder_row.pk, uidvalidity=1, uid=1)
    ingest_messages(items=[item])
    message = IngestedMessage.objects.get()
    # Bound: the desk does not guess; what Zabbix's reader cannot read waits for a person.
    assert message.outcome == "quarantined"
    assert "zabbix" in message.error
    # The same mail elsewhere is taken for no alert, as before.
    ingest(script_mail(2, subject="巡检通知", text="今日巡检已完成。\n"))
    assert IngestedMessage.objects.exclude(pk=message.pk).get().outcome == "not_alert"


@pytest.fixture
def mail_folder_row(db):
    from alerts.models import MailAccount, MailFolder

    account = MailAccount.objects.create(name="dc", host="127.0.0.1", username="alerts", password="x")
    return MailFolder.objects.create(account=account, name="INBOX")


# --- unsure readings ------------------------------------------------------------------------------

def test_an_unsure_mail_opens_a_problem_flagged_for_review_and_never_resolves(org, client):
    # A level-less, state-less mail: host, item and value, nothing else.
    def unsure(n):
        return script_mail(n, subject="SZQZAPP02 交换区使用率78%",
                           text=f"主机名称：SZQZAPP02\n监控项目：交换区使用率\n当前值：{70 + n}%\n")

    ingest(unsure(1))
    incident = Incident.objects.get()
    assert incident.state == "open" and incident.needs_review
    client.force_login(org.people["operator"])
    feed = client.get("/alerts/board/feed/").json()
    assert feed["incidents"][0]["needs_review"]
    page = client.get(f"/alerts/incidents/{incident.pk}/").content.decode()
    assert 'data-field="needs-review"' in page
    ingest(unsure(2))
    incident.refresh_from_db()
    assert (incident.state, incident.occurrences) == ("open", 2)  # a second unsure mail never resolves it
    # Only a clear recovery closes it.
    ingest(script_mail(3, subject="SZQZAPP02 交换区使用率 已恢复",
                       text="主机名称：SZQZAPP02\n监控项目：交换区使用率\n当前状态：已恢复正常\n"))
    incident.refresh_from_db()
    assert incident.state == "resolved"

"""Zabbix reader edge cases beyond the rendered default templates (tests/fixtures/alert-mail/zabbix)."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from alerts.parsing import ParseError, parse_message
from alerts.parsing.sources.zabbix import zabbix_severity

MD5 = "0" * 32


def mail(subject: str, body: str, *, in_reply_to: str | None = None, html: bool = False) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Zabbix <zabbix@dc.bank.example>"
    msg["To"] = "ops-alert@dc.bank.example"
    msg["Subject"] = subject
    msg["Date"] = "Tue, 12 Mar 2024 09:00:00 +0800"
    msg["Message-ID"] = "<t.1@mail01.dc.bank.example>"
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    msg.set_content(body, subtype="html" if html else "plain", charset="utf-8", cte="base64")
    return bytes(msg)


def one(raw: bytes):
    result = parse_message(raw)
    assert result.is_alert, result.reason
    assert len(result.alerts) == 1
    return result.alerts[0]


PROBLEM = ("Problem started at 09:00:00 on 2024.03.12\nProblem name: {name}\nHost: {host}\nSeverity: {sev}\n"
           "Operational data: x\nOriginal problem ID: {id}\n")
RESOLVED = ("Problem has been resolved at 10:00:00 on 2024.03.12\nProblem name: {name}\nProblem duration: 1h\n"
            "Host: {host}\nSeverity: {sev}\nOriginal problem ID: {id}\n")


@pytest.mark.parametrize("word,expected", [
    ("Disaster", "critical"), ("High", "major"), ("Average", "minor"), ("Warning", "warning"),
    ("Information", "info"), ("Not classified", "info"),
    ("灾难", "critical"), ("严重", "major"), ("一般严重", "minor"), ("警告", "warning"), ("信息", "info"),
    ("未分类", "info"), ("5", "critical"), ("4", "major"), ("3", "minor"), ("2", "warning"), ("1", "info"),
    ("0", "info"),
])
def test_zabbix_levels_count_upwards(word, expected):
    assert zabbix_severity(word) == expected


def test_two_problems_of_one_trigger_stay_apart_and_a_recovery_closes_only_its_own():
    name = "Linux: High CPU utilization"
    p1 = one(mail("Problem: " + name, PROBLEM.format(name=name, host="szhxapp01", sev="High", id=101)))
    p2 = one(mail("Problem: " + name, PROBLEM.format(name=name, host="szhxapp01", sev="High", id=202)))
    r1 = one(mail("Resolved in 1h: " + name, RESOLVED.format(name=name, host="szhxapp01", sev="High", id=101)))
    assert (p1.identity, p2.identity, r1.identity) == ("101", "202", "101")
    assert p1.dedup_key != p2.dedup_key
    assert r1.dedup_key == p1.dedup_key and r1.status == "recovery" and r1.severity == "info"


def test_update_mail_takes_the_event_id_from_zabbix_threading_header():
    body = ("值班员 张伟 (duty01) acknowledged problem at 2024.03.12 09:10:00.\n已处理\n\n"
            "Current problem status is PROBLEM, age is 10m, acknowledged: Yes.")
    subject = "Updated problem in 10m: szgmapp01: Tuxedo server GMSVR01 is down"
    acked = one(mail(subject, body, in_reply_to=f"<555.{MD5}.1.abc123@zabbix.com>"))
    assert (acked.host, acked.status, acked.identity) == ("szgmapp01", "ack", "555")
    # No Zabbix threading header: no identity (host + trigger name only); a foreign In-Reply-To is ignored.
    assert one(mail(subject, body)).identity == ""
    assert one(mail(subject, body, in_reply_to="<555.abc@mail.example>")).identity == ""


@pytest.mark.parametrize("action,status", [
    ("acknowledged", "ack"), ("acknowledged, commented and closed", "recovery"), ("closed", "recovery"),
    ("commented", "none"), ("unacknowledged", "none"), ("changed severity from Average to High", "none"),
    ("suppressed", "none"), ("unsuppressed", "none"),
])
def test_update_actions(action, status):
    body = (f"Admin {action} problem at 2024.03.12 09:10:00.\n\n\n"
            "Current problem status is PROBLEM, age is 10m, acknowledged: No.")
    alert = one(mail("Updated problem in 10m: gdrc-core-app04 批量进程hxbatch不存在", body,
                     in_reply_to=f"<9.{MD5}.1.x@zabbix.com>"))
    assert alert.status == status and alert.host == "gdrc-core-app04"


def test_update_mail_whose_name_names_no_host_is_quarantined_not_guessed():
    body = ("Admin acknowledged problem at 2024.03.12 09:10:00.\n\n\n"
            "Current problem status is PROBLEM, age is 10m, acknowledged: Yes.")
    with pytest.raises(ParseError):
        parse_message(mail("Updated problem in 10m: Interface eth1(): Link down", body))


def test_chinese_recovery_variant_with_recovery_time_line():
    body = ("告警主机:szhxdb01(192.0.2.11)\n告警时间:2024.03.12 09:00:00\n恢复时间:2024.03.12 09:20:00\n"
            "告警等级:灾难\n告警信息: 核心数据库HXDB监听不可用\n当前状态:OK\n事件ID:777")
    alert = one(mail("恢复OK, 服务器:szhxdb01: 核心数据库HXDB监听不可用已恢复!", body))
    assert (alert.host, alert.status, alert.identity, alert.severity) == ("szhxdb01", "recovery", "777", "info")


def test_chinese_template_without_any_state_is_an_unsure_problem_never_a_recovery():
    body = "告警主机:szhxdb01\n告警等级:严重\n告警信息: 核心数据库HXDB归档目录使用率高\n事件ID:778"
    alert = one(mail("Zabbix通知: 核心数据库HXDB归档目录使用率高", body))
    assert alert.status == "problem" and alert.needs_review and alert.severity == "major"


def test_chinese_status_field_new_state_counts():
    body = "告警主机:szhxdb01\n告警信息: 表空间使用率高\n当前状态:PROBLEM:95%\n事件ID:779"
    assert one(mail("故障PROBLEM,服务器:szhxdb01发生: 表空间使用率高故障!", body)).status == "problem"


def test_discovery_and_autoregistration_are_not_alerts():
    disc = mail("Discovery: Up 192.0.2.45", "Discovery rule: 核心网段\n\nDevice IP: 192.0.2.45\nDevice DNS: \n"
                "Device status: Up\nDevice uptime: 0")
    assert parse_message(disc).is_alert is False
    reg = mail("Autoregistration: gdrc-core-app05", "Host name: gdrc-core-app05\nHost IP: 198.51.100.25\n"
               "Agent port: 10050")
    assert parse_message(reg).is_alert is False


def test_hostile_input_is_bounded():
    name = "Linux: High CPU utilization"
    body = PROBLEM.format(name=name, host="szhxapp01", sev="High", id=1) + ("Host: x\n" * 50000) + "A" * 600_000
    alert = one(mail("Problem: " + name + " " + "x" * 5000, body))
    assert alert.host == "szhxapp01" and alert.identity == "1" and len(alert.message) <= 500
    for raw in (mail("Problem: " + name, "Problem started at 1\n" + "A" * 5_000_000),
                mail("Updated problem: " + "(" * 3000, "a acknowledged problem at 1" + " x" * 100000)):
        try:
            parse_message(raw)
        except ParseError:
            pass  # quarantined: fail safe

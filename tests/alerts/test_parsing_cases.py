"""Parser cases beyond the corpus: other notifier versions, forwards, admin rules, hostile input."""
from __future__ import annotations

import base64
import time
from email.generator import BytesGenerator
from email.message import EmailMessage, Message
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from io import BytesIO

import pytest

from alerts.parsing import ParseError, Rule, fingerprint, parse_date, parse_message, validate_rule
from alerts.parsing.mime import decode_header_value, html_to_text

DATE = "Tue, 12 Mar 2024 10:00:00 +0800"


def flatten(msg: Message) -> bytes:
    buf = BytesIO()
    BytesGenerator(buf, policy=compat32, mangle_from_=False).flatten(msg)
    return buf.getvalue()


def text_mail(subject: str, body: str, *, sender: str = "monitor@dc.bank.example", charset: str = "utf-8",
              extra: dict[str, str] | None = None, date: str = DATE) -> bytes:
    msg = MIMEText(body, "plain", charset)
    msg["From"] = sender
    msg["To"] = "alert@monitor.dc.bank.example"
    msg["Subject"] = subject
    msg["Date"] = date
    msg["Message-ID"] = "<case@dc.bank.example>"
    for k, v in (extra or {}).items():
        msg[k] = v
    return flatten(msg)


def raw_mail(headers: str, body: bytes) -> bytes:
    return headers.strip("\n").encode("ascii") + b"\n\n" + body


# --------------------------------------------------------------------------------------------
# Nagios / Icinga 2
# --------------------------------------------------------------------------------------------

ICINGA2_SERVICE = """***** Service Monitoring on icinga-master01 *****

Disk Oradata on Core DB 01 is CRITICAL!

Info:    DISK CRITICAL - free space: /oradata 4915 MB (4.8% inode=97%);

When:    2024-03-12 10:00:00 +0800
Service: disk-oradata
Host:    SZHXDB01
IPv4:    10.1.12.21
"""


def test_icinga2_service_uses_object_names_not_display_names():
    r = parse_message(text_mail("[PROBLEM] Disk Oradata on Core DB 01 is CRITICAL!", ICINGA2_SERVICE,
                                sender="icinga@dc.bank.example"))
    assert (r.source, r.host, r.check, r.severity, r.status, r.category) == (
        "icinga", "szhxdb01", "disk-oradata", "critical", "problem", "os")
    assert r.dedup_key == "icinga|szhxdb01|disk-oradata"
    assert "DISK CRITICAL" in r.alerts[0].message


def test_icinga2_host_recovery_and_flapping_notice():
    body = ("***** Host Monitoring on icinga-master01 *****\n\nCore DB 01 is UP!\n\n"
            "Info:    PING OK - Packet loss = 0%\n\nWhen:    2024-03-12 10:00:00 +0800\nHost:    szhxdb01\n")
    r = parse_message(text_mail("[RECOVERY] Host Core DB 01 is UP!", body))
    assert (r.source, r.host, r.check, r.severity, r.status, r.category) == (
        "icinga", "szhxdb01", "host", "info", "recovery", "network")
    r = parse_message(text_mail("[FLAPPINGSTART] Host Core DB 01 is DOWN!", body.replace("UP!", "DOWN!")))
    assert (r.check, r.status, r.severity) == ("host", "none", "info")


def test_icinga2_classic_template_and_nagios_unknown_state():
    body = ("***** Icinga  *****\n\nNotification Type: PROBLEM\n\nService: Oracle Listener\nHost: szhxdb02\n"
            "Address: 10.1.12.22\nState: UNKNOWN\n\nDate/Time: 2024-03-12 10:00:00\n\n"
            "Additional Info: UNKNOWN - tnsping timed out\n")
    r = parse_message(text_mail("PROBLEM - szhxdb02 - Oracle Listener is UNKNOWN", body))
    assert (r.source, r.host, r.check, r.severity, r.status, r.category) == (
        "icinga", "szhxdb02", "oracle listener", "minor", "problem", "db")


def test_nagios_host_unreachable_is_major():
    body = ("***** Nagios *****\n\nNotification Type: PROBLEM\nHost: gdrc-core-app05\nState: UNREACHABLE\n"
            "Address: 10.2.1.15\nInfo: CRITICAL - Host Unreachable\n")
    r = parse_message(text_mail("** PROBLEM Host Alert: gdrc-core-app05 is UNREACHABLE **", body))
    assert (r.host, r.check, r.severity, r.category) == ("gdrc-core-app05", "host", "major", "network")


def test_auto_generated_header_alone_keeps_an_alert():
    body = ("***** Nagios *****\n\nNotification Type: PROBLEM\n\nService: CPU Load\nHost: gdrc-core-app03\n"
            "State: WARNING\n\nAdditional Info:\n\nWARNING - load average: 17.21\n")
    r = parse_message(text_mail("** PROBLEM Service Alert: gdrc-core-app03/CPU Load is WARNING **", body,
                                extra={"Auto-Submitted": "auto-generated"}))
    assert r.is_alert and r.check == "cpu load" and r.severity == "warning"


# --------------------------------------------------------------------------------------------
# Zabbix
# --------------------------------------------------------------------------------------------

ZABBIX3 = """Trigger: Processor load is too high on SZHXAPP01
Trigger status: {status}
Trigger severity: High
Trigger URL:

Item values:

1. Processor load (1 min average per core) (SZHXAPP01:system.cpu.load[percpu,avg1]): 5.2
2. *UNKNOWN* (*UNKNOWN*:*UNKNOWN*): *UNKNOWN*
3. *UNKNOWN* (*UNKNOWN*:*UNKNOWN*): *UNKNOWN*

Original event ID: 4411
"""


def test_zabbix3_problem_and_ok():
    r = parse_message(text_mail("PROBLEM: Processor load is too high on SZHXAPP01",
                                ZABBIX3.format(status="PROBLEM"), sender="zabbix@dc.bank.example"))
    assert (r.source, r.host, r.check, r.severity, r.status, r.category) == (
        "zabbix", "szhxapp01", "processor load is too high on szhxapp01", "major", "problem", "os")
    ok = parse_message(text_mail("OK: Processor load is too high on SZHXAPP01",
                                 ZABBIX3.format(status="OK"), sender="zabbix@dc.bank.example"))
    assert (ok.status, ok.severity, ok.dedup_key) == ("recovery", "info", r.dedup_key)


def test_zabbix_customised_chinese_template():
    body = ("告警主机：SZZZDB01\n告警地址：10.1.15.21\n告警时间：2024.03.12 10:00:00\n告警等级：一般严重\n"
            "告警信息：Oracle表空间ZZ_DATA使用率超过90%\n告警项目：oracle.tbs.pused[ZZ_DATA]\n"
            "问题详情：ZZ_DATA 91.2%\n当前状态：PROBLEM\n事件ID：9981\n")
    r = parse_message(text_mail("故障:Oracle表空间ZZ_DATA使用率超过90%", body,
                                sender="Zabbix <zabbix@dc.bank.example>"))
    assert (r.source, r.host, r.check, r.severity, r.status, r.category) == (
        "zabbix", "szzzdb01", "oracle表空间zz_data使用率超过90%", "minor", "problem", "db")
    rec = parse_message(text_mail("恢复:Oracle表空间ZZ_DATA使用率超过90%",
                                  body.replace("当前状态：PROBLEM", "当前状态：OK"),
                                  sender="Zabbix <zabbix@dc.bank.example>"))
    assert (rec.status, rec.severity, rec.dedup_key) == ("recovery", "info", r.dedup_key)


def test_zabbix_update_closed_and_comment_only():
    base = "{action} problem at 2024.03.12 10:00:00.\n备注\n\nCurrent problem status is PROBLEM, age is 5m."
    closed = parse_message(text_mail("Updated problem in 5m: szhxapp01 MQ通道HX.TO.QZ异常",
                                     base.format(action="Admin (admin) closed"),
                                     sender="zabbix@dc.bank.example"))
    assert (closed.source, closed.host, closed.status, closed.category) == ("zabbix", "szhxapp01", "recovery", "mq")
    note = parse_message(text_mail("Updated problem in 5m: szhxapp01 MQ通道HX.TO.QZ异常",
                                   base.format(action="Admin (admin) commented"),
                                   sender="zabbix@dc.bank.example"))
    assert (note.status, note.severity) == ("none", "info")


def test_zabbix_update_host_prefers_the_catalogue():
    body = "值班员 (duty01) acknowledged problem at 2024.03.12 10:00:00.\n"
    r = parse_message(text_mail("Updated problem in 5m: 核心DB主机 hxdb01 归档日志空间不足", body,
                                sender="zabbix@dc.bank.example"), hosts=["hxdb01", "szhxdb01"])
    assert (r.host, r.status) == ("hxdb01", "ack")


def test_zabbix_html_message():
    html = ("<html><body><b>Problem started at</b> 10:00:00 on 2024.03.12<br><b>Problem name:</b> "
            "Interface bond0: Link down<br><b>Host:</b> gdrc-core-web01<br><b>Severity:</b> Average<br>"
            "<b>Original problem ID:</b> 77</body></html>")
    msg = MIMEText(html, "html", "utf-8")
    msg["Subject"] = "Problem: Interface bond0: Link down"
    msg["From"] = "zabbix@dc.bank.example"
    msg["Date"] = DATE
    r = parse_message(flatten(msg))
    assert (r.source, r.host, r.check, r.severity, r.category) == (
        "zabbix", "gdrc-core-web01", "interface bond0: link down", "minor", "network")
    assert r.html_present


# --------------------------------------------------------------------------------------------
# Alertmanager
# --------------------------------------------------------------------------------------------

def test_alertmanager_text_mixed_firing_and_resolved_without_port():
    body = ("[FIRING:1] DiskIOHigh\n\nAlerts Firing:\nLabels:\n - alertname = DiskIOHigh\n"
            " - instance = gdrc-core-app03\n - severity = major\nAnnotations:\n - summary = io busy\n"
            "Source: http://prom\n\nAlerts Resolved:\nLabels:\n - alertname = DiskIOHigh\n"
            " - instance = [2001:db8::7]:9100\n - severity = major\nAnnotations:\nSource: http://prom\n")
    r = parse_message(text_mail("[FIRING:1] DiskIOHigh", body, sender="alertmanager@dc.bank.example"))
    got = [(a.host, a.check, a.severity, a.status) for a in r.alerts]
    assert got == [("gdrc-core-app03", "diskiohigh", "major", "problem"),
                   ("2001:db8::7", "diskiohigh", "info", "recovery")]
    assert r.alerts[0].fields["label.severity"] == "major"


def test_alertmanager_alerts_differing_by_a_label_stay_two_alerts():
    block = ("Labels:\n - alertname = TxnVolumeDrop\n - instance = gdrc-core-app04:9301\n - channel = {ch}\n"
             " - severity = critical\nAnnotations:\nSource: x\n")
    body = "Alerts Firing:\n" + block.format(ch="ATM") + block.format(ch="POS")
    r = parse_message(text_mail("[FIRING:2] TxnVolumeDrop", body, sender="alertmanager@dc.bank.example"))
    # Alertmanager tells them apart by their labels (channel ATM / POS): two alerts, two keys.
    assert [(a.host, a.check, a.category) for a in r.alerts] == [("gdrc-core-app04", "txnvolumedrop", "transaction")] * 2
    assert len({a.dedup_key for a in r.alerts}) == 2
    assert ['channel="ATM"' in r.alerts[0].identity, 'channel="POS"' in r.alerts[1].identity] == [True, True]


# --------------------------------------------------------------------------------------------
# In-house scripts
# --------------------------------------------------------------------------------------------

def test_script_several_filesystems_in_one_object_field():
    body = ("告警级别：严重\n主机名称：SZHXAPP01\n监控项目：文件系统使用率\n监控对象：/tmp, /home，/var/log\n"
            "告警描述：3个文件系统超过阈值\n")
    r = parse_message(text_mail("[严重][核心系统][SZHXAPP01] 文件系统告警", body))
    assert [(a.host, a.check, a.severity) for a in r.alerts] == [
        ("szhxapp01", "filesystem:/tmp", "major"), ("szhxapp01", "filesystem:/home", "major"),
        ("szhxapp01", "filesystem:/var/log", "major")]


def test_script_english_key_values_and_acknowledged():
    body = "Level: CRITICAL\nHostname: szbbdb01\nCheck: Informix logical log usage\nDatabase: bbdb\n"
    r = parse_message(text_mail("ALERT szbbdb01 logical log", body))
    assert (r.source, r.host, r.check, r.severity, r.category) == ("script", "szbbdb01", "db_log:bbdb", "critical", "db")
    ack = parse_message(text_mail("[已确认] ALERT szbbdb01 logical log", body.replace("CRITICAL", "已确认")))
    assert (ack.status, ack.severity, ack.dedup_key) == ("ack", "info", r.dedup_key)


def test_script_alert_without_host_is_a_parse_error():
    body = "告警级别：严重\n监控项目：CPU使用率\n当前值：99%\n"
    with pytest.raises(ParseError) as info:
        parse_message(text_mail("CPU使用率告警", body))
    assert "host" in str(info.value)
    assert info.value.result is not None and info.value.result.is_alert
    assert info.value.result.subject == "CPU使用率告警"


def test_gbk_labelled_utf8_is_recovered():
    body = "告警级别：警告\n主机名称：SZXDAPP01\n监控项目：内存使用率\n".encode("gbk")
    raw = raw_mail("From: root@szxdapp01\nSubject: =?UTF-8?B?{}?=\nDate: {}\nMIME-Version: 1.0\n"
                   "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit".format(base64.b64encode("[警告] 内存告警".encode("gbk")).decode(), DATE), body)
    r = parse_message(raw)
    assert r.subject == "[警告] 内存告警"
    assert "主机名称：SZXDAPP01" in r.text
    assert (r.host, r.check, r.severity) == ("szxdapp01", "memory", "warning")
    assert any("charset mismatch" in e for e in r.errors)


def test_unlabelled_8bit_gbk_and_invalid_charset_name():
    raw = raw_mail("From: root@szbbdb01\nSubject: =?hp15CN?B?{}?=\nDate: Tue, 12 Mar 2024 10:00:00\n"
                   "Content-Type: text/plain; charset=hp15CN".format(base64.b64encode("[警告] SZBBDB01 CPU告警".encode("gb2312")).decode()),
                   "告警级别：警告\n主机名称：SZBBDB01\n监控项目：CPU使用率\n".encode("gb2312"))
    r = parse_message(raw)
    assert (r.host, r.check) == ("szbbdb01", "cpu")
    assert r.sent_at_utc == "2024-03-12T02:00:00Z"
    assert "invalid charset hp15CN" in r.errors


# --------------------------------------------------------------------------------------------
# Forwarded and redirected mail
# --------------------------------------------------------------------------------------------

NAGIOS_BODY = ("***** Nagios *****\n\nNotification Type: PROBLEM\n\nService: Disk /oradata\nHost: SZHXDB01\n"
               "Address: 10.1.12.21\nState: CRITICAL\n\nAdditional Info:\n\nDISK CRITICAL - free space\n")


def test_forwarded_nagios_alert_inline_outlook_style():
    body = ("请处理。\n\n________________________________\n发件人: Nagios Monitor <nagios@gdrc-nagios01>\n"
            "发送时间: 2024年3月12日 9:17\n收件人: 值班组\n主题: ** PROBLEM Service Alert: SZHXDB01/Disk /oradata is CRITICAL **\n\n"
            + NAGIOS_BODY)
    r = parse_message(text_mail("转发: ** PROBLEM Service Alert: SZHXDB01/Disk /oradata is CRITICAL **", body,
                                sender="duty01@dc.bank.example", date="Tue, 12 Mar 2024 11:00:00 +0800"))
    assert (r.source, r.host, r.check, r.severity, r.status) == ("nagios", "szhxdb01", "disk /oradata", "critical", "problem")
    assert r.sent_at_utc == "2024-03-12T03:00:00Z"  # the forwarding message's Date


def test_forwarded_as_attachment():
    inner = MIMEText(NAGIOS_BODY, "plain", "us-ascii")
    inner["From"] = "nagios@gdrc-nagios01"
    inner["Subject"] = "** PROBLEM Service Alert: SZHXDB01/Disk /oradata is CRITICAL **"
    inner["Date"] = DATE
    outer = MIMEMultipart("mixed")
    outer["From"] = "duty01@dc.bank.example"
    outer["Subject"] = "Fwd: disk alert"
    outer["Date"] = DATE
    outer.attach(MIMEText("see below", "plain", "utf-8"))
    part = Message()
    part["Content-Type"] = "message/rfc822"
    part.set_payload([inner])
    outer.attach(part)
    r = parse_message(flatten(outer))
    assert (r.source, r.host, r.check) == ("nagios", "szhxdb01", "disk /oradata")


def test_resent_redirect_is_read_as_is():
    r = parse_message(text_mail("** PROBLEM Service Alert: SZHXDB01/Disk /oradata is CRITICAL **", NAGIOS_BODY,
                                sender="nagios@gdrc-nagios01",
                                extra={"Resent-From": "duty01@dc.bank.example", "Resent-Date": DATE}))
    assert (r.source, r.host) == ("nagios", "szhxdb01")


@pytest.mark.parametrize("subject", ["Re: ** PROBLEM Service Alert: SZHXDB01/Disk /oradata is CRITICAL **",
                                     "回复：[严重][核心系统][SZHXDB01] 文件系统告警", "答复: 文件系统告警",
                                     "RE: FW: CPU告警"])
def test_human_replies_quoting_alerts_are_not_alerts(subject):
    r = parse_message(text_mail(subject, "已处理。\n\n> " + NAGIOS_BODY.replace("\n", "\n> ")))
    assert (r.is_alert, r.source, r.reason, r.alerts) == (False, "other", "reply", [])
    assert (r.host, r.check, r.severity, r.status, r.category, r.dedup_key) == ("", "", "info", "none", "other", "")


@pytest.mark.parametrize("subject,reason", [("测试邮件，请忽略", "test mail"), ("[日报] 生产巡检", "report"),
                                            ("自动回复: 休假", "auto-reply"), ("Invitation: 变更评审会", "calendar")])
def test_subject_non_alerts(subject, reason):
    r = parse_message(text_mail(subject, "主机名称：SZHXDB01\n告警级别：严重\n监控项目：CPU使用率\n"))
    assert (r.is_alert, r.reason) == (False, reason)


def test_calendar_part_and_mailer_daemon():
    msg = MIMEMultipart("alternative")
    msg["Subject"] = "变更窗口 SZHXDB01"
    msg["From"] = "pm@dc.bank.example"
    msg.attach(MIMEText("变更", "plain", "utf-8"))
    msg.attach(MIMEText("BEGIN:VCALENDAR\nEND:VCALENDAR\n", "calendar", "utf-8"))
    assert parse_message(flatten(msg)).reason == "calendar"
    r = parse_message(text_mail("Warning: could not send message", NAGIOS_BODY, sender="MAILER-DAEMON@mail01"))
    assert (r.is_alert, r.reason) == (False, "delivery status notification")


# --------------------------------------------------------------------------------------------
# Admin rules
# --------------------------------------------------------------------------------------------

BATCH_BODY = "JOB=HXEOD01 HOST=szhxapp01 RC=8 LEVEL=严重\nJOB=HXEOD02 HOST=szhxapp02 RC=0 LEVEL=恢复\n"


def test_rule_with_named_groups_yields_one_alert_per_match():
    rule = Rule(name="batch", match_sender=r"@batch\.dc", match_subject="批量",
                extract_body=r"JOB=(?P<object>\S+) HOST=(?P<host>\S+) RC=\d+ LEVEL=(?P<severity>\S+)",
                check_kind="process")
    r = parse_message(text_mail("批量作业告警", BATCH_BODY, sender="ctl@batch.dc.bank.example"), rules=[rule])
    assert [(a.source, a.host, a.check, a.severity, a.status, a.category) for a in r.alerts] == [
        ("script", "szhxapp01", "process:hxeod01", "major", "problem", "app_process"),
        ("script", "szhxapp02", "process:hxeod02", "info", "recovery", "app_process")]
    assert r.alerts[0].fields["rule"] == "batch"


def test_rules_run_in_priority_order_and_only_when_all_matchers_match():
    low = Rule(name="low", priority=50, match_subject="批量", extract_subject=r"(?P<check>批量)",
               extract_body=r"HOST=(?P<host>\S+)", source="script", category="app_process")
    high = Rule(name="high", priority=10, match_subject="批量", extract_body=r"HOST=(?P<host>\S+)",
                check_kind="txn_volume")
    wrong_sender = Rule(name="other", priority=1, match_sender="nobody", extract_body=r"HOST=(?P<host>\S+)",
                        check_kind="cpu")
    raw = text_mail("批量作业告警", BATCH_BODY)
    assert parse_message(raw, rules=[low, high, wrong_sender]).check == "txn_volume"
    assert parse_message(raw, rules=[low, wrong_sender]).check == "批量"
    assert parse_message(raw, rules=[low]).category == "app_process"


def test_rule_without_host_falls_back_and_bad_regex_is_reported_not_raised():
    broken = Rule(name="broken", match_subject="(unclosed", extract_body="x")
    nohost = Rule(name="nohost", match_subject="CPU", extract_body=r"当前值：(?P<message>\S+)")
    assert validate_rule(broken)
    body = "告警级别：警告\n主机名称：SZHXDB01\n监控项目：CPU使用率\n当前值：93%\n"
    r = parse_message(text_mail("CPU告警", body), rules=[broken, nohost])
    assert (r.source, r.host, r.check) == ("script", "szhxdb01", "cpu")
    assert any("broken" in e for e in r.errors)


def test_rules_see_forwarded_originals_but_not_non_alerts():
    rule = Rule(name="any", extract_body=r"HOST=(?P<host>\S+)", check_kind="process")
    assert parse_message(text_mail("Re: 批量", BATCH_BODY), rules=[rule]).is_alert is False
    assert parse_message(text_mail("FW: 批量", BATCH_BODY), rules=[rule]).host == "szhxapp01"


# --------------------------------------------------------------------------------------------
# Hostile and broken input
# --------------------------------------------------------------------------------------------

def test_html_only_body_with_script_is_inert():
    html = ("<html><head><script>steal(document.cookie)</script><style>body{x:url(http://e)}</style></head>"
            "<body onload=\"evil()\"><table><tr><td>主机名称</td><td>SZGMAPP01</td></tr>"
            "<tr><td>告警级别</td><td>致命</td></tr><tr><td>监控项目</td><td>进程<img src=x onerror=alert(1)> gmsvr</td></tr>"
            "</table><a href=\"javascript:alert(2)\">详情</a><script>more()</script></body></html>")
    msg = MIMEText(html, "html", "utf-8")
    msg["Subject"] = "[致命] 进程告警"
    msg["From"] = "gmop@szgmapp01"
    r = parse_message(flatten(msg))
    for bad in ("steal", "cookie", "evil", "onerror", "javascript", "more()", "url(http"):
        assert bad not in r.text
    assert "主机名称: SZGMAPP01" in r.text
    assert (r.host, r.check, r.severity, r.category) == ("szgmapp01", "process:gmsvr", "critical", "app_process")


def test_encoded_word_with_crlf_injection_and_bare_cr():
    subject = "=?UTF-8?B?{}?=".format(base64.b64encode("[警告][SZXDAPP01] CPU\r\nBcc: evil@x\r\n\r\n<h1>".encode()).decode())
    raw = (b"From: root@szxdapp01\nSubject: " + subject.encode() + b"\nX-Info: a\rBcc: evil2@x\nDate: "
           + DATE.encode() + b"\n\n\xe5\x91\x8a\xe8\xad\xa6\xe7\xba\xa7\xe5\x88\xab: \xe8\xad\xa6\xe5\x91\x8a\n")
    r = parse_message(raw)
    assert "\r" not in r.subject and "\n" not in r.subject
    assert r.subject.startswith("[警告][SZXDAPP01] CPU Bcc: evil@x")
    assert (r.host, r.check) == ("szxdapp01", "cpu")
    assert decode_header_value("a\rb\nc\x00d") == "a b c d"


@pytest.mark.parametrize("raw", [b"", b"\x00\xff\xfe garbage \x81\x82", b"\n\n\n", b"Subject: only\n",
                                 b"Content-Type: multipart/mixed; boundary=x\n\n--x\nContent-Type: text/plain\n\n",
                                 b"=?utf-8?B?####?=: x\n\nbody", b"Subject: =?utf-8?B?4pyTIGJ?= =?bogus?Q?=ZZ?=\n\n"])
def test_garbage_never_raises_anything_but_parse_error(raw):
    r = parse_message(raw)
    assert r.is_alert is False and r.source == "other" and r.alerts == []
    assert len(r.fingerprint) == 64


def test_non_bytes_input_is_a_parse_error():
    with pytest.raises(ParseError):
        parse_message(12345)  # type: ignore[arg-type]


def test_deep_message_rfc822_nesting_is_bounded():
    raw = b"Subject: x\nContent-Type: message/rfc822\n\n" * 3000 + b"Subject: inner\n\nhello\n"
    start = time.perf_counter()
    r = parse_message(raw)
    assert time.perf_counter() - start < 2
    assert r.is_alert is False


def test_big_attachment_is_truncated_but_measured():
    outer = MIMEMultipart("mixed")
    outer["Subject"] = "[警告][SZHXDB01] CPU使用率告警"
    outer["From"] = "root@szhxdb01"
    outer.attach(MIMEText("告警级别：警告\n主机名称：SZHXDB01\n监控项目：CPU使用率\n", "plain", "utf-8"))
    outer.attach(MIMEApplication(b"\x00" * 600_000, Name="core.bin"))
    r = parse_message(flatten(outer))
    (att,) = r.attachments
    assert (att.filename, att.size, att.truncated) == ("core.bin", 600_000, True)
    assert len(att.data) < att.size
    assert r.check == "cpu"


def test_fingerprint_ignores_trace_headers_only():
    raw = text_mail("a", "b")
    traced = (b"Return-Path: <x@y>\nReceived: from a\n\tby b; " + DATE.encode() + b"\nDelivered-To: z\n"
              b"X-Original-To: q\n" + raw)
    assert fingerprint(traced) == fingerprint(raw)
    assert fingerprint(raw.replace(b"Subject: a", b"Subject: c")) != fingerprint(raw)


def test_html_to_text_keeps_rows_as_key_value():
    text = html_to_text("<table><tr><th>级别</th><td>严重</td></tr></table><p>a<br>b</p>")
    assert [line for line in text.split("\n") if line] == ["级别: 严重", "a", "b"]


@pytest.mark.parametrize("value,expected", [
    ("Tue Mar 12 08:40:01 CST 2024", "2024-03-12T00:40:01Z"),
    ("2024-03-12 08:52:03", "2024-03-12T00:52:03Z"),
    ("2024/03/12 08:52:03", "2024-03-12T00:52:03Z"),
    ("Tue, 12 Mar 24 13:02:00 +0800", "2024-03-12T05:02:00Z"),
    ("12 Mar 2024 11:20:05 +0800", "2024-03-12T03:20:05Z"),
    ("Tue, 12 Mar 2024 07:22:10 GMT", "2024-03-12T07:22:10Z"),
    ("Tue, 12 Mar 2024 16:35:00", "2024-03-12T08:35:00Z"),
    ("Tue, 12 Mar 2024 16:35:00 CST", "2024-03-12T08:35:00Z"),
    ("32 Foo 2024 99:99:99 +0800", None),
    ("", None),
    (None, None),
    ("yesterday", None),
])
def test_dates(value, expected):
    parsed = parse_date(value)
    assert (parsed.strftime("%Y-%m-%dT%H:%M:%SZ") if parsed else None) == expected


def test_email_message_policy_default_input():
    msg = EmailMessage()
    msg["Subject"] = "[严重][核心系统][SZHXDB02] DB2锁等待"
    msg["From"] = "db2inst1@szhxdb02"
    msg.set_content("告警级别：严重\n主机名称：SZHXDB02\n监控项目：数据库锁等待\n监控对象：HXDB2\n", charset="gb18030")
    r = parse_message(msg.as_bytes())
    assert (r.host, r.check, r.severity, r.category) == ("szhxdb02", "db_lock:hxdb2", "major", "db")


def test_forwarded_outlook_html_without_marker_line():
    html = ("<html><body><p>请处理</p><div style=\"border-top:solid #E1E1E1 1.0pt\"><p><b>From:</b> "
            "Zabbix &lt;zabbix@dc.bank.example&gt;<br><b>Sent:</b> Tuesday, March 12, 2024 9:31 AM<br>"
            "<b>To:</b> alert<br><b>Subject:</b> Problem: /zzdata: Disk space is critically low</p></div>"
            "<p>Problem started at 09:31:40 on 2024.03.12<br>Problem name: /zzdata: Disk space is critically low<br>"
            "Host: SZZZDB01<br>Severity: High<br>Original problem ID: 1</p></body></html>")
    msg = MIMEText(html, "html", "utf-8")
    msg["Subject"] = "FW: Problem: /zzdata: Disk space is critically low"
    msg["From"] = "duty01@dc.bank.example"
    msg["Date"] = DATE
    r = parse_message(flatten(msg))
    assert (r.source, r.host, r.check, r.severity) == (
        "zabbix", "szzzdb01", "/zzdata: disk space is critically low", "major")


def test_script_topic_without_trouble_words_is_not_an_alert():
    r = parse_message(text_mail("SZHXDB01 文件系统扩容申请", "请审批。\n"))
    assert (r.is_alert, r.reason) == (False, "no monitored state")


def test_english_one_liner_prefers_the_host_after_on():
    r = parse_message(text_mail("Oracle tablespace TBS01 92% used on szzzdb01 - threshold exceeded",
                                "checked by chk_tbs.sh\n"))
    assert (r.host, r.check, r.category) == ("szzzdb01", "tablespace:tbs01", "db")


def test_hpux_ems_event_with_padded_keys():
    body = ("Event data from monitor:\n\nEvent Time..........: Tue Mar 12 10:00:00 2024\n"
            "Severity............: CRITICAL\nMonitor.............: disk_em\nSystem..............: szzzdb01\n"
            "Summary:\n     Disk at hardware path 0/2/1/0.0x5.0x0 : Drive is not responding.\n")
    r = parse_message(text_mail("szzzdb01: EMS CRITICAL event from disk_em", body, sender="root@szzzdb01"))
    assert (r.source, r.host, r.check, r.severity, r.category) == (
        "script", "szzzdb01", "hw:0/2/1/0.0x5.0x0", "critical", "hardware")


def test_script_recovery_subject_overrides_kept_level():
    body = "告警级别：严重\n主机名称：SZHXDB01\n监控项目：文件系统使用率\n监控对象：/oradata\n"
    r = parse_message(text_mail("[SZHXDB01] 文件系统/oradata使用率已恢复正常", body))
    assert (r.status, r.severity, r.check) == ("recovery", "info", "filesystem:/oradata")


def test_df_like_listing_gives_one_alert_per_mount_point():
    body = "文件系统使用率告警:\n/oradata   95%\n/oraarch   93%\n检查脚本：/home/monitor/bin/chk_fs.sh\n"
    r = parse_message(text_mail("CRITICAL: szhxdb01 file systems over 90%", body))
    assert [(a.host, a.check, a.severity) for a in r.alerts] == [
        ("szhxdb01", "filesystem:/oradata", "critical"), ("szhxdb01", "filesystem:/oraarch", "critical")]


def test_unknown_kind_check_ignores_figures():
    first = parse_message(text_mail("[严重][核心系统][SZHXAPP01] 外联前置报文积压1234笔", "告警级别：严重\n"))
    again = parse_message(text_mail("[严重][核心系统][SZHXAPP01] 外联前置报文积压1500笔", "告警级别：严重\n"))
    assert first.is_alert and first.dedup_key == again.dedup_key
    assert first.check == "外联前置报文积压笔" and first.category == "other"


def test_registering_a_source_is_enough_to_use_it(monkeypatch):
    import types

    from alerts.parsing import sources
    from alerts.parsing.sources.base import make_alert

    custom = types.SimpleNamespace(
        NAME="envmon",
        detect=lambda msg: msg.subject.startswith("ENV"),
        parse=lambda msg: [make_alert("envmon", "room-a1", "temperature", "critical", "problem", "hardware",
                                      msg.subject)])
    monkeypatch.setattr(sources, "REGISTRY", list(sources.REGISTRY))
    sources.register(custom)
    assert [s.NAME for s in sources.REGISTRY][-2:] == ["envmon", "script"]
    r = parse_message(text_mail("ENV room-a1 temperature 35C", "x"))
    assert (r.source, r.host, r.check, r.dedup_key) == ("envmon", "room-a1", "temperature", "envmon|room-a1|temperature")

"""Edge cases of the Prometheus-family readers (Alertmanager, Grafana, Nightingale, PrometheusAlert)
beyond the rendered fixtures of tests/fixtures/alert-mail/: labels that keep alerts apart, a webhook
and a mail of one alert folding, states the Chinese templates leave unclear, hostile input."""

from __future__ import annotations

import time
from email.message import EmailMessage

import pytest

from alerts.parsing import ParseError, parse_message
from alerts.sources.webhooks import alerts_from_alertmanager
from tests.fixtures import FIXTURES

MAIL = FIXTURES / "alert-mail"


def mail(subject: str, body: str, *, html: bool = False, sender: str = "alertmanager@dc.bank.example") -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "alert@monitor.dc.bank.example"
    msg["Subject"] = subject
    msg["Date"] = "Tue, 12 Mar 2024 10:00:00 +0800"
    msg["Message-ID"] = "<tool-case@dc.bank.example>"
    msg.set_content(body, subtype="html" if html else "plain")
    return msg.as_bytes()


def read(tool: str, name: str):
    return parse_message((MAIL / tool / name).read_bytes())


# --- Alertmanager ------------------------------------------------------------------------------

def test_two_mountpoints_of_one_host_stay_distinct_and_the_recovery_closes_only_its_own():
    firing = read("alertmanager", "firing-two-mountpoints.eml").alerts
    assert [(a.host, a.check, a.severity, a.status) for a in firing] == [
        ("szhxdb01", "nodefilesystemalmostoutofspace", "critical", "problem"),
        ("szhxdb01", "nodefilesystemalmostoutofspace", "warning", "problem")]
    oradata, arch = firing
    assert oradata.dedup_key != arch.dedup_key
    assert 'mountpoint="/oradata"' in oradata.identity and 'mountpoint="/arch"' in arch.identity
    (resolved,) = read("alertmanager", "resolved-one-mountpoint.eml").alerts
    assert resolved.status == "recovery" and resolved.severity == "info"
    assert resolved.dedup_key == arch.dedup_key != oradata.dedup_key


def test_a_webhook_and_a_mail_of_one_alert_share_the_dedup_key():
    labels = {"alertname": "NodeFilesystemAlmostOutOfSpace", "device": "/dev/mapper/vg_ora-lv_arch",
              "fstype": "xfs", "instance": "szhxdb01:9100", "job": "node", "mountpoint": "/arch",
              "severity": "warning"}
    hook = alerts_from_alertmanager({"status": "resolved", "alerts": [
        {"status": "resolved", "labels": labels, "annotations": {"summary": "x"}}]}).alerts
    (mailed,) = read("alertmanager", "resolved-one-mountpoint.eml").alerts
    assert [(a.host, a.check, a.dedup_key, a.status) for a in hook] == [
        (mailed.host, mailed.check, mailed.dedup_key, mailed.status)]


def test_grouped_mail_gives_each_alert_its_own_state():
    firing, resolved = read("alertmanager", "grouped-mixed.eml").alerts
    assert (firing.host, firing.status, firing.severity) == ("gdrc-core-app04", "problem", "critical")
    assert (resolved.host, resolved.status, resolved.severity) == ("gdrc-core-app03", "recovery", "info")


def test_chinese_table_without_state_column_is_unsure_when_the_subject_count_does_not_match():
    alerts = read("alertmanager", "cn-table-mixed.eml").alerts
    assert [a.status for a in alerts] == ["problem", "problem"]
    assert all(a.needs_review for a in alerts)
    assert all(not a.needs_review for a in read("alertmanager", "cn-table-firing.eml").alerts)


def test_chinese_template_state_per_alert_from_status_and_recovery_time():
    body = ("<pre>\n状态：firing \nJob: node\n实例: gdrc-core-app04:9100 \n信息: 内存高 \n详情: 92%\n开始时间: 2024-03-12 10:00:00\n</pre>"
            "<pre>\n状态：resolved\nJob: node\n实例: gdrc-core-app03:9100\n信息: 内存高\n详情: 91%\n开始时间: 2024-03-12 09:00:00\n"
            "恢复时间: 2024-03-12 10:00:00\n</pre>")
    alerts = parse_message(mail("[FIRING:1] HighMemoryUsage warning", body, html=True)).alerts
    assert [(a.host, a.check, a.status, a.needs_review) for a in alerts] == [
        ("gdrc-core-app04", "highmemoryusage", "problem", ""), ("gdrc-core-app03", "highmemoryusage", "recovery", "")]


def test_chinese_template_printing_one_alert_with_and_without_recovery_time_is_not_a_recovery():
    # Templates that range over .Alerts in both the firing and the resolved section print a firing
    # alert twice, the second time with a (future) 恢复时间.
    block = ("=========start==========<br>告警程序: prometheus_alert <br>告警级别: critical <br>"
             "告警类型: HostDown <br>告警主机: gdrc-core-app04:9100 <br>告警主题: down <br>"
             "告警详情: down <br>触发时间: 2024-03-12 10:00:00 <br>{end}=========end==========<br>")
    body = block.format(end="") + block.format(end="恢复时间: 2024-03-12 10:05:00 <br>")
    alerts = parse_message(mail("[FIRING:1] HostDown (gdrc-core-app04:9100 node critical)", body, html=True)).alerts
    assert {a.status for a in alerts} == {"problem"}
    assert all(a.needs_review for a in alerts)


def test_chinese_template_hostname_ip_host_field_and_level_suffix():
    body = ("告警程序: Alertmanager <br>告警类型: HostDown <br>告警级别: critical 级 <br>告警状态: firing <br>"
            "故障主机: szhxdb02:192.0.2.22 <br>告警主题: 主机宕机 <br>")
    (alert,) = parse_message(mail("[FIRING:1] HostDown", body, html=True)).alerts
    assert (alert.host, alert.check, alert.severity, alert.status) == ("szhxdb02", "hostdown", "critical", "problem")


def test_hostile_alertmanager_mail_is_bounded():
    block = "Labels:\n - alertname = Flood\n - instance = gdrc-core-app{n:02d}:9100\n - severity = warning\nAnnotations:\nSource: x\n"
    body = "Alerts Firing:\n" + "".join(block.format(n=n % 100) for n in range(5000)) + "x" * 3_000_000
    start = time.monotonic()
    result = parse_message(mail("[FIRING:5000] Flood", body))
    assert time.monotonic() - start < 10
    assert 0 < len(result.alerts) <= 201


def test_alertmanager_alert_without_host_label_is_quarantined():
    body = "Alerts Firing:\nLabels:\n - alertname = TxnVolumeDrop\n - channel = POS\nAnnotations:\nSource: x\n"
    with pytest.raises(ParseError):
        parse_message(mail("[FIRING:1] TxnVolumeDrop", body))


# --- Grafana -----------------------------------------------------------------------------------

def test_grafana_test_notification_is_not_an_alert_and_text_and_html_agree():
    result = read("grafana", "test-notification.eml")
    assert not result.is_alert and result.reason == "test notification"
    a, b = read("grafana", "text-and-html-two-mountpoints.eml").alerts
    assert a.dedup_key != b.dedup_key and (a.severity, b.severity) == ("critical", "warning")


def test_grafana_mail_of_one_alert_keys_like_its_html_only_twin():
    (html_only,) = read("grafana", "firing.eml").alerts
    (resolved,) = read("grafana", "resolved.eml").alerts
    assert html_only.dedup_key == resolved.dedup_key and resolved.status == "recovery"


# --- Nightingale -------------------------------------------------------------------------------

@pytest.mark.parametrize(("level", "severity"), [("1", "critical"), ("2", "warning"), ("3", "info")])
def test_nightingale_numbers_its_levels_critical_warning_info(level, severity):
    body = (f"<h3>CPU 使用率过高</h3><table><tr><th>级别状态：</th><td>S{level} Triggered</td></tr>"
            "<tr><th>监控对象：</th><td>gdrc-core-app04</td></tr>"
            "<tr><th>监控指标：</th><td>[ident=gdrc-core-app04 rulename=CPU 使用率过高]</td></tr></table>")
    (alert,) = parse_message(mail("Triggered: CPU 使用率过高 [ident=gdrc-core-app04 rulename=CPU 使用率过高]", body,
                                  html=True, sender="n9e@dc.bank.example")).alerts
    assert (alert.source, alert.host, alert.check, alert.severity, alert.status) == (
        "nightingale", "gdrc-core-app04", "cpu 使用率过高", severity, "problem")


def test_nightingale_subject_and_body_disagreeing_is_never_a_recovery():
    body = ("<h3>CPU high</h3><table><tr><th>级别状态：</th><td>S1 Recovered</td></tr>"
            "<tr><th>监控对象：</th><td>gdrc-core-app04</td></tr></table>")
    (alert,) = parse_message(mail("Triggered: CPU high []", body, html=True, sender="n9e@dc.bank.example")).alerts
    assert alert.status == "problem" and alert.needs_review


# --- PrometheusAlert ---------------------------------------------------------------------------

def test_prometheusalert_grafana_template_claiming_recovery_without_host_is_quarantined():
    with pytest.raises(ParseError):
        read("prometheusalert", "grafana-email-tpl.eml")


def test_prometheusalert_levels_count_upwards():
    body = ("<h1><a href =http://p>Prometheus告警信息</a></h1><h2><a href =http://a>HostDown</a></h2>"
            "<h5>告警级别：{level}</h5><h5>开始时间：2024-03-12T02:00:00Z</h5><h5>故障主机IP：198.51.100.7:9100</h5>"
            "<h3>down</h3>")
    got = [parse_message(mail("运维告警", body.format(level=n), html=True)).alerts[0].severity for n in range(5)]
    assert got == ["info", "warning", "minor", "major", "critical"]

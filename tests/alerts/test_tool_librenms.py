"""LibreNMS reader: titles decide the state (not the rule's Severity), custom titles, hostile input."""
from __future__ import annotations

from email.mime.text import MIMEText

from alerts.parsing import parse_message


def mail(title: str, severity: str = "critical", elapsed: bool = False) -> bytes:
    text = (f"{title}\r\nSeverity: {severity}\r\n" + (" Time elapsed: 3m 2s " if elapsed else "")
            + "Timestamp: 2024-05-14 10:20:05\r\nUnique-ID: 77\r\nRule:  Devices up/down  Faults:\r\n"
            "  #1: sysObjectID = .1.3.6.1.4.1.9.1.2277; \r\nAlert sent to:\r\n  NOC <noc@bank.example>\r\n")
    msg = MIMEText(text, "plain", "utf-8")
    msg["From"] = "LibreNMS <librenms@nms01.bank.example>"
    msg["Subject"] = title
    msg["X-Mailer"] = "LibreNMS"
    return msg.as_bytes()


def test_recovery_keeps_the_rules_severity_word_but_is_a_recovery():
    (alert,) = parse_message(mail("Device gdrc-core-sw01 recovered from Devices up/down", elapsed=True)).alerts
    assert (alert.status, alert.severity, alert.severity_word) == ("recovery", "info", "critical")


def test_suffixes():
    got = {s: parse_message(mail(f"Alert for device gdrc-core-sw01 - Devices up/down {s}")).alerts[0].status
           for s in ("got acknowledged", "Has been acknowledged", "Has worsened", "got better", "changed")}
    assert got == {"got acknowledged": "ack", "Has been acknowledged": "ack", "Has worsened": "problem",
                   "got better": "problem", "changed": "problem"}


def test_problem_recovery_and_ack_fold_although_unique_id_changes():
    keys = {parse_message(mail(t)).alerts[0].dedup_key for t in (
        "Alert for device gdrc-core-sw01 - Devices up/down",
        "Alert for device gdrc-core-sw01 - Devices up/down Has been acknowledged",
        "Device gdrc-core-sw01 recovered from Devices up/down")}
    assert keys == {"librenms|gdrc-core-sw01|devices up/down"}


def test_hostile_body_is_bounded():
    raw = mail("Alert for device gdrc-core-sw01 - Devices up/down" + " x" * 100)
    raw += b"  #9: " + b"y" * 5_000_000 + b"\r\n"
    result = parse_message(raw)
    assert len(result.alerts) <= 1

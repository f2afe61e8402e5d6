"""Checkmk reader edge cases beyond the rendered mails: transitions, unknown events, hostile input."""
from __future__ import annotations

import time
from email.mime.text import MIMEText

import pytest

from alerts.parsing import ParseError, parse_message
from tests.fixtures import FIXTURES

CMK = FIXTURES / "alert-mail" / "checkmk"


def ascii_mail(subject: str, body: str) -> bytes:
    msg = MIMEText(body, "plain", "utf-8")
    msg["From"] = "prod@cmk01.bank.example"
    msg["To"] = "noc@bank.example"
    msg["Subject"] = subject
    msg["Auto-Submitted"] = "auto-generated"
    return msg.as_bytes()


def body(event: str, service: str = "Filesystem /oradata", host: str = "szhxdb01") -> str:
    return (f"Host:     {host}\nAlias:    {host}\nAddress:  192.0.2.11\nService:  {service}\n"
            f"Event:    {event}\nOutput:   Used: 96.12%\nPerfdata: \n\n")


@pytest.mark.parametrize(("event", "status", "severity"), [
    ("OK -> CRIT", "problem", "critical"),
    ("CRIT -> OK", "recovery", "info"),
    ("WARN -> CRIT", "problem", "critical"),
    ("CRIT -> WARN", "problem", "warning"),
    ("OK -> OK", "recovery", "info"),
    ("Acknowledged (CRIT)", "ack", "info"),
    ("Downtime End (OK)", "none", "info"),
    ("Downtime Cancelled (CRIT)", "none", "info"),
    ("Disabled Flapping (WARN)", "none", "info"),
    ("Custom Notification (CRIT)", "none", "info"),
])
def test_the_new_state_of_the_event_counts(event, status, severity):
    result = parse_message(ascii_mail(f"Check_MK: szhxdb01/Filesystem /oradata {event}", body(event)))
    (alert,) = result.alerts
    assert (alert.source, alert.status, alert.severity, alert.needs_review) == ("checkmk", status, severity, "")


def test_an_unknown_new_state_is_a_problem_to_review():
    result = parse_message(ascii_mail("Check_MK: szhxdb01/Filesystem /oradata OK -> PEND", body("OK -> PEND")))
    (alert,) = result.alerts
    assert alert.status == "problem" and alert.needs_review


def test_a_custom_subject_is_read_from_the_body():
    result = parse_message(ascii_mail("[PROD] disk alarm", body("OK -> CRIT", host="gdrc-core-app04")))
    (alert,) = result.alerts
    assert (alert.host, alert.check, alert.status) == ("gdrc-core-app04", "filesystem /oradata", "problem")


def test_one_host_and_service_fold_whatever_the_alias():
    keys = {parse_message((CMK / f).read_bytes()).alerts[0].dedup_key
            for f in ("service-problem.eml", "service-recovery.eml", "asciimail-service-problem.eml")}
    assert keys == {"checkmk|szhxdb01|filesystem /oradata"}


def test_hostile_bulk_is_bounded():
    blocks = "".join(body("OK -> CRIT", service=f"Service {i}") for i in range(5000))
    raw = ascii_mail("Check_MK: 5000 notifications for szhxdb01", blocks + "x" * 3_000_000)
    started = time.monotonic()
    result = parse_message(raw)
    assert time.monotonic() - started < 10
    assert 0 < len(result.alerts) <= 200
    assert all(a.host == "szhxdb01" for a in result.alerts)


def test_a_bulk_mail_with_an_empty_host_is_quarantined():
    with pytest.raises(ParseError):
        parse_message(ascii_mail("Check_MK: 2 notifications for 2 hosts",
                                 body("OK -> CRIT") + body("UP -> DOWN", host="")))

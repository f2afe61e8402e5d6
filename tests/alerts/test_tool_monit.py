"""Monit reader: the event table's columns, notices, unknown events, missing host, hostile input."""
from __future__ import annotations

import pytest

from alerts.parsing import ParseError, parse_message
from alerts.parsing.sources.monit import EVENTS


def monit_mail(event: str, service: str = "nginx", host: str = "gdrc-core-app04", description: str = "x",
               subject: str | None = None) -> bytes:
    subject = subject if subject is not None else f"monit alert --  {event} {service}"
    return (f"From: monit@{host}\r\nTo: noc@bank.example\r\nSubject: {subject}\r\n"
            "X-Mailer: Monit 5.14.1\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=\"iso-8859-1\"\r\n"
            "Content-Transfer-Encoding: 8bit\r\n\r\n"
            f"{event} Service {service} \r\n\r\n\tDate:        Tue, 14 May 2024 10:20:05\r\n\tAction:      alert\r\n"
            f"\tHost:        {host}\r\n\tDescription: {description}\r\n\r\nYour faithful employee,\r\nMonit\r\n\r\n"
            ).encode("latin-1")


@pytest.mark.parametrize(("event", "status"), [
    ("Does not exist", "problem"), ("Exists", "recovery"),
    ("Connection failed", "problem"), ("Connection succeeded", "recovery"),
    ("Resource limit matched", "problem"), ("Resource limit succeeded", "recovery"),
    ("Content match", "problem"), ("Content doesn't match", "recovery"),
    ("PID changed", "problem"), ("Checksum not changed", "recovery"),
    ("Timeout", "problem"), ("Timeout recovery", "recovery"),
    ("Link down", "problem"), ("Link up", "recovery"),
    ("Monit instance changed", "none"), ("Action done", "none"),
])
def test_event_words_map_by_monits_table(event, status):
    (alert,) = parse_message(monit_mail(event)).alerts
    assert (alert.source, alert.status, alert.needs_review) == ("monit", status, "")


def test_every_table_word_is_problem_recovery_or_notice():
    assert {status for _type, status in EVENTS.values()} == {"problem", "recovery", "none"}
    assert EVENTS["exists"] == ("nonexist", "recovery")


def test_failure_and_success_of_one_test_fold_but_other_tests_stay_apart():
    failed = parse_message(monit_mail("Connection failed")).alerts[0]
    ok = parse_message(monit_mail("Connection succeeded")).alerts[0]
    gone = parse_message(monit_mail("Does not exist")).alerts[0]
    assert failed.dedup_key == ok.dedup_key != gone.dedup_key


def test_an_unknown_event_word_is_a_problem_to_review():
    raw = monit_mail("Frobnication failed", subject="monit alert --  Frobnication failed nginx")
    (alert,) = parse_message(raw).alerts
    assert alert.status == "problem"


def test_a_custom_subject_keeps_the_default_body():
    (alert,) = parse_message(monit_mail("Does not exist", subject="[szhxdb01] nginx down")).alerts
    assert (alert.host, alert.check, alert.status) == ("gdrc-core-app04", "nginx", "problem")


def test_no_host_anywhere_is_quarantined():
    raw = monit_mail("Does not exist", host="").replace(b"From: monit@\r\n", b"From: ops@bank.example\r\n")
    with pytest.raises(ParseError):
        parse_message(raw)


def test_hostile_body_is_bounded():
    raw = monit_mail("Status failed", description="A" * 5_000_000)
    (alert,) = parse_message(raw).alerts
    assert alert.status == "problem" and len(alert.message) <= 500

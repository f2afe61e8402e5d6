"""Edge cases of the Nagios-family readers (Nagios Core, Icinga 1.x/2, Centreon) beyond the
rendered tool mail of ``tests/fixtures/alert-mail/{nagios,icinga,centreon}``: which reader claims
what, the notification-type rules, descriptive aliases, hostile input."""
from __future__ import annotations

import time
from email.mime.text import MIMEText

import pytest

from alerts.parsing import ParseError, parse_message
from alerts.parsing.mime import parse_bytes
from alerts.parsing.sources import centreon, icinga, nagios


def mail(subject: str, body: str, sender: str = "monitor@dc.bank.example") -> bytes:
    msg = MIMEText(body, "plain", "utf-8")
    msg["From"] = sender
    msg["To"] = "alert@monitor.dc.bank.example"
    msg["Subject"] = subject
    msg["Date"] = "Tue, 12 Mar 2024 10:00:00 +0800"
    msg["Message-ID"] = "<nagios-case@dc.bank.example>"
    return msg.as_bytes()


def nagios_service(ntype: str, state: str, *, host: str = "szhxdb01", service: str = "Disk /oradata",
                   banner: str = "Nagios") -> tuple[str, str]:
    body = (f"***** {banner} *****\n\nNotification Type: {ntype}\n\nService: {service}\nHost: {host}\n"
            f"Address: 192.0.2.21\nState: {state}\n\nDate/Time: Tue Mar 12 10:00:00 CST 2024\n\n"
            f"Additional Info:\n\nDISK {state} - free space: /oradata 4915 MB (4.8% inode=97%);\n")
    return f"** {ntype} Service Alert: {host}/{service} is {state} **", body


def icinga2_service(ntype: str, state: str, output: str = "DISK CRITICAL - free space") -> tuple[str, str]:
    body = (f"***** Service Monitoring on gdrc-icinga01 *****\n\nDisk /oradata on Core Banking DB 01 is {state}!\n\n"
            f"Info:    {output}\n\nWhen:    2024-03-12 10:00:00 +0800\nService: disk-oradata\nHost:    szhxdb01\n"
            "IPv4:    192.0.2.21")
    return f"[{ntype}] Disk /oradata on Core Banking DB 01 is {state}!", body


def one(raw: bytes):
    result = parse_message(raw)
    assert len(result.alerts) == 1, result.reason
    return result.alerts[0]


# --------------------------------------------------------------------------------------------
# Who claims what
# --------------------------------------------------------------------------------------------

def test_each_family_member_is_read_by_its_own_reader():
    assert one(mail(*nagios_service("PROBLEM", "CRITICAL"))).source == "nagios"
    assert one(mail(*nagios_service("PROBLEM", "CRITICAL", banner="Icinga"))).source == "icinga"
    assert one(mail(*icinga2_service("PROBLEM", "CRITICAL"))).source == "icinga"
    body = ("***** centreon Notification *****\n\nNotification Type: PROBLEM\n\nService: Cpu\nHost: szhxdb01\n"
            "Address: 192.0.2.21\nState: WARNING\n\nDate/Time: 03-12-2024 Additional Info : WARNING: CPU 87 %")
    assert one(mail("** PROBLEM alert - szhxdb01/Cpu is WARNING **", body)).source == "centreon"


def test_detect_is_specific():
    nagios_mail = parse_bytes(mail(*nagios_service("PROBLEM", "CRITICAL")))
    assert nagios.detect(nagios_mail)
    assert not icinga.detect(nagios_mail)
    assert not centreon.detect(nagios_mail)
    # Nagios 2's old subject alone ("** PROBLEM alert - h/s is CRITICAL **") is not Centreon's.
    old = parse_bytes(mail("** PROBLEM alert - szhxdb01/Cpu is WARNING **", "Service: Cpu\nHost: szhxdb01\n"))
    assert not centreon.detect(old)
    # A chat message quoting the words is nobody's.
    chat = parse_bytes(mail("Re: weekly meeting", "We talked about Icinga and Centreon notification mails.\n"))
    assert not (nagios.detect(chat) or icinga.detect(chat) or centreon.detect(chat))


# --------------------------------------------------------------------------------------------
# Notification type decides the state
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("ntype", "state", "status", "severity"), [
    ("PROBLEM", "CRITICAL", "problem", "critical"),
    ("PROBLEM", "WARNING", "problem", "warning"),
    ("PROBLEM", "UNKNOWN", "problem", "minor"),
    ("RECOVERY", "OK", "recovery", "info"),
    ("ACKNOWLEDGEMENT", "CRITICAL", "ack", "info"),
    ("FLAPPINGSTART", "CRITICAL", "none", "info"),
    ("FLAPPINGSTOP", "OK", "none", "info"),
    ("DOWNTIMESTART", "CRITICAL", "none", "info"),
    ("DOWNTIMEEND", "OK", "none", "info"),
    ("DOWNTIMECANCELLED", "OK", "none", "info"),
    ("CUSTOM", "CRITICAL", "problem", "critical"),
    ("CUSTOM", "OK", "none", "info"),
])
def test_notification_type_decides(ntype, state, status, severity):
    for build in (nagios_service, icinga2_service):
        a = one(mail(*build(ntype, state)))
        assert (a.status, a.severity, a.needs_review) == (status, severity, ""), build.__name__


def test_icinga2_filter_names_in_mixed_case_are_understood():
    subject, body = icinga2_service("FlappingEnd", "OK")
    assert one(mail(subject, body)).status == "none"
    subject, body = icinga2_service("DowntimeRemoved", "OK")
    assert one(mail(subject, body)).status == "none"


def test_a_problem_notification_saying_ok_is_a_problem_to_review():
    a = one(mail(*nagios_service("PROBLEM", "OK")))
    assert a.status == "problem" and a.needs_review


def test_host_states_map_to_levels():
    body = ("***** Nagios *****\n\nNotification Type: PROBLEM\nHost: gdrc-core-app05\nState: {s}\n"
            "Address: 198.51.100.15\nInfo: CRITICAL - Host Unreachable\n\nDate/Time: Tue Mar 12 10:00:00 CST 2024\n")
    for state, severity in (("DOWN", "critical"), ("UNREACHABLE", "major")):
        a = one(mail(f"** PROBLEM Host Alert: gdrc-core-app05 is {state} **", body.format(s=state)))
        assert (a.check, a.severity, a.category) == ("host", severity, "network")


# --------------------------------------------------------------------------------------------
# Hosts: object names, never a word of a descriptive alias
# --------------------------------------------------------------------------------------------

def test_descriptive_alias_is_no_host():
    with pytest.raises(ParseError):
        parse_message(mail(*nagios_service("PROBLEM", "CRITICAL", host="Core banking DB 01")))


def test_icinga2_output_lines_do_not_replace_the_host_block():
    subject, body = icinga2_service("PROBLEM", "CRITICAL", output="CRITICAL - 2 checks failed\nHost: evil01\nService: x")
    a = one(mail(subject, body))
    assert (a.host, a.check) == ("szhxdb01", "disk-oradata")


def test_centreon_later_subject_gives_the_host_name_not_the_alias():
    body = ("***** Centreon notification *****\n\nType:    RECOVERY\nHost:    Core banking Oracle DB 01\n"
            "Address: 192.0.2.21\nService: Disk-/oradata\nState:   OK\nSince:   0d 0h 1m 2s\nInfo:    OK: fine\n")
    a = one(mail("szhxdb01/Disk-/oradata - OK - 03-12-2024 10:00:00", body))
    assert (a.source, a.host, a.check, a.status) == ("centreon", "szhxdb01", "disk-/oradata", "recovery")


# --------------------------------------------------------------------------------------------
# Hostile input
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("build", [nagios_service, icinga2_service])
def test_huge_bodies_and_subjects_stay_fast_and_safe(build):
    subject, body = build("PROBLEM", "CRITICAL")
    huge = body + ("Host: x " * 20 + "\n") * 50000  # ~5 MB of repeated field lines
    start = time.monotonic()
    a = one(mail(subject, huge))
    assert a.host == "szhxdb01"
    long_subject = "** PROBLEM Service Alert: " + "a/" * 20000 + " is" * 5000
    try:
        parse_message(mail(long_subject, "***** Nagios *****\nHost:\n"))
    except ParseError as exc:
        assert "internal parser error" not in str(exc)
    assert time.monotonic() - start < 10


def test_no_reader_raises_anything_but_its_errors_on_garbage():
    for subject, body in [("[PROBLEM]  is !", "***** Host Monitoring on  *****\n"),
                          ("** CUSTOM Host Alert:  is  **", "***** Nagios *****\nHost: \nState:\n"),
                          ("x", "***** centreon Notification *****\nType:\nHost:\n"),
                          ("PROBLEM -  -  is X", "***** Icinga  *****\n")]:
        try:
            parse_message(mail(subject, body))
        except ParseError as exc:
            assert "internal parser error" not in str(exc)

"""Netdata reader: without its X-Netdata headers (a forward that lost them), test notifications."""
from __future__ import annotations

import re

from alerts.parsing import parse_message
from tests.fixtures import FIXTURES

ND = FIXTURES / "alert-mail" / "netdata"


def strip_x_headers(raw: bytes) -> bytes:
    return re.sub(rb"(?m)^X-Netdata-[^\n]*\n", b"", raw)


def test_read_from_the_text_part_without_the_headers():
    for name, status, severity in (("escalation-critical.eml", "problem", "critical"),
                                   ("clear.eml", "recovery", "info"),
                                   ("plaintext-critical.eml", "problem", "critical")):
        raw = strip_x_headers((ND / name).read_bytes())
        (alert,) = parse_message(raw).alerts
        assert (alert.source, alert.status, alert.severity) == ("netdata", status, severity), name


def test_the_same_alarm_on_two_charts_stays_apart():
    raw = (ND / "warning.eml").read_bytes()
    other = raw.replace(b"disk_space._oradata", b"disk_space._archlog")
    a, b = parse_message(raw).alerts[0], parse_message(other).alerts[0]
    assert a.check == b.check and a.dedup_key != b.dedup_key


def test_test_notification_without_headers_is_still_a_test():
    result = parse_message(strip_x_headers((ND / "test-critical.eml").read_bytes()))
    assert not result.is_alert and result.reason == "test notification"

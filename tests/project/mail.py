"""Alert e-mails made on the spot (Nagios' default notification text), each one distinct."""

from __future__ import annotations

import uuid
from email.utils import format_datetime

from django.utils import timezone

__all__ = ["nagios_mail", "garbled_mail"]


def nagios_mail(host: str, service: str, *, state: str = "CRITICAL", kind: str = "PROBLEM") -> bytes:
    now = timezone.now()
    token = uuid.uuid4().hex[:12]
    return (
        f"Date: {format_datetime(now)}\r\n"
        "To: alert@monitor.dc.bank.example\r\n"
        f"Subject: ** {kind} Service Alert: {host}/{service} is {state} **\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n"
        f"Message-Id: <{token}@nagios01.dc.bank.example>\r\n"
        "From: nagios@nagios01.dc.bank.example (Nagios Monitor)\r\n\r\n"
        "***** Nagios *****\r\n\r\n"
        f"Notification Type: {kind}\r\n\r\nService: {service}\r\nHost: {host}\r\nAddress: 10.1.12.21\r\n"
        f"State: {state}\r\n\r\nDate/Time: {now:%a %b %d %H:%M:%S} CST {now:%Y}\r\n\r\n"
        f"Additional Info:\r\n\r\n{service} {state} - probe {token}\r\n"
    ).encode("ascii")


def garbled_mail() -> bytes:
    """A Nagios notification that lost its Host line: an alert nobody can place, so quarantined."""
    token = uuid.uuid4().hex[:12]
    return (
        "To: alert@monitor.dc.bank.example\r\n"
        f"Subject: ** PROBLEM Service Alert: /Disk {token} is CRITICAL **\r\n"
        f"Message-Id: <{token}@nagios01.dc.bank.example>\r\n"
        "From: nagios@nagios01.dc.bank.example (Nagios Monitor)\r\n\r\n"
        "***** Nagios *****\r\n\r\nNotification Type: PROBLEM\r\n\r\nService: Disk\r\n"
        "State: CRITICAL\r\n"
    ).encode("ascii")

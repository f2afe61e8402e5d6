"""Nothing becomes a recovery by accident: every problem mail of every tool, with any one of its
lines gone, its subject gone or its body cut short, is still a problem (perhaps flagged for review),
quarantined or not an alert, never a recovery; and the parser answers with a result or a ParseError,
nothing else."""

from __future__ import annotations

import email
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.policy import compat32

import pytest

from alerts.parsing import ParseError, parse_message
from tests.fixtures.alert_mail import load_cases

PROBLEM_CASES = [c for c in load_cases()
                 if c.data.get("is_alert") and all(a["status"] == "problem" for a in c.data["alerts"])]


def _text_of(raw: bytes) -> tuple[str, str, str]:
    """(sender, subject, body text) of a fixture, decoded."""
    msg = email.message_from_bytes(raw, policy=compat32)
    subject = str(make_header(decode_header(msg.get("Subject", ""))))
    body = ""
    for part in msg.walk():
        if part.get_content_maintype() == "text" and not part.is_multipart():
            payload = part.get_payload(decode=True) or b""
            body = payload.decode(part.get_content_charset() or "utf-8", "replace")
            if part.get_content_subtype() == "plain":
                break
    return msg.get("From", ""), subject, body


def _mail(sender: str, subject: str, body: str, html: bool) -> bytes:
    out = EmailMessage()
    out["From"] = sender
    out["Subject"] = subject
    out["Date"] = "Tue, 01 Dec 2026 10:00:00 +0800"
    out.set_content(body, subtype="html" if html else "plain")
    return out.as_bytes()


def _variants(raw: bytes):
    sender, subject, body = _text_of(raw)
    html = "<html" in body[:2000].lower() or "<table" in body[:5000].lower()
    lines = body.split("\n")
    yield "no subject", _mail(sender, "", body, html)
    for cut in (len(body) // 3, len(body) // 2):
        yield f"body cut at {cut}", _mail(sender, subject, body[:cut], html)
    for i in range(min(len(lines), 40)):
        if lines[i].strip():
            yield f"line {i} gone", _mail(sender, subject, "\n".join(lines[:i] + lines[i + 1:]), html)


@pytest.mark.parametrize("case", PROBLEM_CASES, ids=[c.id for c in PROBLEM_CASES])
def test_a_damaged_problem_mail_is_never_a_recovery(case):
    for what, raw in _variants(case.path.read_bytes()):
        try:
            result = parse_message(raw)
        except ParseError:
            continue  # quarantined: a person looks at it
        recovered = [a for a in result.alerts if a.status == "recovery"]
        assert not recovered, f"{case.id} with {what}: read as a recovery: {recovered[0]}"

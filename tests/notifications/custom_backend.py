"""A bank's own SMS backends, plugged in by dotted path (OPSDESK_SMS_BACKEND) in the tests."""

from __future__ import annotations

from notifications.backends import Backend, OutgoingMessage, PermanentFailure

SENT: list[OutgoingMessage] = []


class RecordingBackend(Backend):
    """A class backend: keeps one "connection" per process, refuses numbers ending in 0."""

    opened = 0

    def __init__(self):
        RecordingBackend.opened += 1

    def send(self, message: OutgoingMessage) -> str:
        if message.address.endswith("0"):
            raise PermanentFailure("number refused by the bank's platform")
        SENT.append(message)
        return f"bank-{len(SENT)}"


def send(message: OutgoingMessage) -> str:
    """A module backend: a plain function."""
    SENT.append(message)
    return f"fn-{len(SENT)}"

"""The embedded default: the stored row is the message. Shown in the UI and admin as sent."""

from __future__ import annotations

from notifications.backends import OutgoingMessage

__all__ = ["send"]


def send(message: OutgoingMessage) -> str:
    return f"outbox:{message.key}"

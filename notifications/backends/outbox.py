"""The embedded default: the stored row is the message. Shown in the UI and admin as sent."""

from __future__ import annotations

from notifications.backends import Backend, OutgoingMessage

__all__ = ["OutboxBackend"]


class OutboxBackend(Backend):
    def send(self, message: OutgoingMessage) -> str:
        return f"outbox:{message.key}"

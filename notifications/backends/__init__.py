"""SMS backends, chosen by OPSDESK_SMS_BACKEND. Adding one is adding a module here.

A backend is a callable `send(message: OutgoingMessage) -> str` returning the gateway's message id.
It raises `TemporaryFailure` when trying again later may help (timeouts, connection errors, 5xx,
throttling) and `PermanentFailure` when it cannot (rejected number, 4xx, bad configuration).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured

from notifications import conf

__all__ = ["OutgoingMessage", "TemporaryFailure", "PermanentFailure", "get_backend", "BACKENDS"]

BACKENDS = {
    "outbox": "notifications.backends.outbox",
    "http": "notifications.backends.http",
    "smpp": "notifications.backends.smpp",
    "email": "notifications.backends.email",
}


@dataclass(frozen=True)
class OutgoingMessage:
    address: str
    text: str
    key: str  # the idempotency key: gateways that support it drop a repeated send
    channel: str = "sms"


class DeliveryFailure(Exception):
    pass


class TemporaryFailure(DeliveryFailure):
    """Try again later."""


class PermanentFailure(DeliveryFailure):
    """Trying again will not help."""


def get_backend(channel: str = "sms") -> Callable[[OutgoingMessage], str]:
    name = "email" if channel == "email" else conf.get("OPSDESK_SMS_BACKEND")
    if name not in BACKENDS:
        raise ImproperlyConfigured(
            f"OPSDESK_SMS_BACKEND: unknown backend {name!r}; choose one of {', '.join(sorted(BACKENDS))}"
        )
    return importlib.import_module(BACKENDS[name]).send

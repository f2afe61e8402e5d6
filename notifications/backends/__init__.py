"""SMS backends, chosen by OPSDESK_SMS_BACKEND: a built-in name or a bank's own, by dotted path.

A backend is a class like `Backend` below. The delivery engine opens one per worker process and
keeps it (one kept-alive HTTP connection, one SMPP bind), hands it the messages of a batch with
`send_many`, and asks it for delivery receipts with `receipts`. Its `send` raises
`TemporaryFailure` when trying again later may help (timeouts, connection errors, 5xx, throttling)
and `PermanentFailure` when it cannot (rejected number, 4xx, bad configuration).

A bank plugs in its own without editing OpsDesk:
    OPSDESK_SMS_BACKEND=mybank.sms.Backend   # a class like Backend (send, optionally send_many/receipts/close)
    OPSDESK_SMS_BACKEND=mybank.sms           # or a module with send(message) -> message id
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from notifications import conf

__all__ = [
    "OutgoingMessage", "TemporaryFailure", "PermanentFailure", "Receipt", "Backend", "get_backend", "BACKENDS",
    "close_backends",
]

logger = logging.getLogger(__name__)

BACKENDS = {
    "outbox": "notifications.backends.outbox.OutboxBackend",
    "http": "notifications.backends.http.HttpBackend",
    "smpp": "notifications.backends.smpp.SmppBackend",
    "email": "notifications.backends.email.EmailBackend",
}


@dataclass(frozen=True)
class OutgoingMessage:
    address: str
    text: str
    key: str  # the idempotency key: gateways that support it drop a repeated send
    channel: str = "sms"


@dataclass(frozen=True)
class Receipt:
    """What the operator's network says became of a message (an SMPP deliver_sm receipt)."""

    message_id: str
    delivered: bool
    state: str  # the network's word: DELIVRD, UNDELIV, EXPIRED, REJECTD…
    error: str = ""


class DeliveryFailure(Exception):
    pass


class TemporaryFailure(DeliveryFailure):
    """Try again later."""


class PermanentFailure(DeliveryFailure):
    """Trying again will not help."""


class Backend:
    """One connection to a gateway, kept by one worker process between batches."""

    # The settings this backend reads: when one changes, the engine opens a new backend.
    settings: tuple[str, ...] = ()

    def send(self, message: OutgoingMessage) -> str:
        raise NotImplementedError

    def send_many(self, messages: list[OutgoingMessage]) -> list[str | Exception]:
        """Send several (at most one per address); each result is the gateway's id or the failure."""
        results: list[str | Exception] = []
        for message in messages:
            try:
                results.append(self.send(message))
            except Exception as exc:  # the engine decides what each failure means
                results.append(exc)
        return results

    def receipts(self) -> list[Receipt]:
        """Delivery receipts that arrived since the last call (none for most gateways)."""
        return []

    def close(self) -> None:
        pass


class _FunctionBackend(Backend):
    """A bank's module with a plain `send(message)` function."""

    def __init__(self, send):
        self._send = send

    def send(self, message: OutgoingMessage) -> str:
        return self._send(message)


# One open backend per (process, thread, backend and its settings): a worker keeps its connection
# between batches; a forked child never reuses its parent's socket; a settings change reconnects.
_open: dict[tuple, Backend] = {}
_lock = threading.Lock()


def _backend_class(name: str):
    path = BACKENDS.get(name)
    if path is None:
        if "." not in name:
            raise ImproperlyConfigured(f"OPSDESK_SMS_BACKEND: unknown backend {name!r}; choose one of "
                                       f"{', '.join(sorted(BACKENDS))} or give a dotted path to your own")
        path = name
    try:
        target = import_string(path)
    except ImportError:
        try:
            target = importlib.import_module(path)
        except ImportError as exc:
            raise ImproperlyConfigured(f"OPSDESK_SMS_BACKEND: cannot import {path!r}: {exc}") from None
    if isinstance(target, type):
        return target
    send = getattr(target, "send", target)
    if not callable(send):
        raise ImproperlyConfigured(f"OPSDESK_SMS_BACKEND: {path!r} is neither a backend class nor has send()")
    return lambda: _FunctionBackend(send)


def get_backend(channel: str = "sms") -> Backend:
    """This process's open backend for `channel` (opened on first use, kept afterwards)."""
    name = "email" if channel == "email" else conf.get("OPSDESK_SMS_BACKEND")
    factory = _backend_class(name)
    configuration = tuple(conf.get(s) for s in getattr(factory, "settings", ()))
    key = (os.getpid(), threading.get_ident(), name, configuration)
    backend = _open.get(key)
    if backend is None:
        with _lock:
            for stale in [k for k in _open if k[:3] == key[:3] and k != key]:
                _close(_open.pop(stale))
            backend = _open[key] = factory()
    return backend


def close_backends() -> None:
    """Close this process's backends (worker shutdown; tests)."""
    with _lock:
        for key in [k for k in _open if k[0] == os.getpid()]:
            _close(_open.pop(key))


def _close(backend: Backend) -> None:
    try:
        backend.close()
    except Exception:  # closing a dead connection must not stop anything
        logger.debug("closing %r failed", backend, exc_info=True)

"""E-mail as a second channel, through Django's configured e-mail backend (one SMTP connection a batch)."""

from __future__ import annotations

import smtplib

from django.core.mail import EmailMessage, get_connection

from notifications.backends import Backend, OutgoingMessage, PermanentFailure, TemporaryFailure

__all__ = ["EmailBackend", "send"]


class EmailBackend(Backend):
    def send(self, message: OutgoingMessage) -> str:
        return _send_one(message, None)

    def send_many(self, messages: list[OutgoingMessage]) -> list[str | Exception]:
        connection = get_connection(fail_silently=False)
        results: list[str | Exception] = []
        try:
            connection.open()
        except (smtplib.SMTPException, OSError) as exc:
            return [TemporaryFailure(f"{exc.__class__.__name__}: {exc}")] * len(messages)
        try:
            for message in messages:
                try:
                    results.append(_send_one(message, connection))
                except Exception as exc:  # the engine decides what each failure means
                    results.append(exc)
        finally:
            connection.close()
        return results


def _send_one(message: OutgoingMessage, connection) -> str:
    subject = message.text.splitlines()[0][:60] if message.text else "OpsDesk"
    try:
        EmailMessage(subject, message.text, None, [message.address], connection=connection).send(fail_silently=False)
    except smtplib.SMTPRecipientsRefused as exc:
        raise PermanentFailure(f"recipient refused: {exc}") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise TemporaryFailure(f"{exc.__class__.__name__}: {exc}") from None
    return f"email:{message.key}"


def send(message: OutgoingMessage) -> str:
    return _send_one(message, None)

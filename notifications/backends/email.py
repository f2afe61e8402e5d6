"""E-mail as a second channel, through Django's configured e-mail backend."""

from __future__ import annotations

import smtplib

from django.core.mail import send_mail

from notifications.backends import OutgoingMessage, PermanentFailure, TemporaryFailure

__all__ = ["send"]


def send(message: OutgoingMessage) -> str:
    subject = message.text.splitlines()[0][:60] if message.text else "OpsDesk"
    try:
        send_mail(subject, message.text, None, [message.address], fail_silently=False)
    except smtplib.SMTPRecipientsRefused as exc:
        raise PermanentFailure(f"recipient refused: {exc}") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise TemporaryFailure(f"{exc.__class__.__name__}: {exc}") from None
    return f"email:{message.key}"

"""This app's settings, read at call time from Django settings or the environment.

Every value has an embedded default, so the desk works without configuring anything: the
"outbox" backend keeps messages in the database and shows them as sent.

| setting / environment            | default            | meaning |
| -------------------------------- | ------------------ | ------- |
| OPSDESK_SMS_BACKEND              | outbox             | outbox, http, smpp, or a dotted path to a bank's own (backends/__init__.py) |
| OPSDESK_SMS_HTTP_URL             |                    | gateway URL (http backend) |
| OPSDESK_SMS_HTTP_METHOD          | POST               | |
| OPSDESK_SMS_HTTP_FORMAT          | json               | json, form or xml |
| OPSDESK_SMS_HTTP_XML_ROOT        | sms                | root element of an xml body |
| OPSDESK_SMS_HTTP_SIGNER          |                    | dotted path to sign(request); e.g. notifications.backends.http.hmac_sha256 |
| OPSDESK_SMS_HTTP_SIGN_SECRET     |                    | the hmac_sha256 signer's secret |
| OPSDESK_SMS_HTTP_CA_BUNDLE       |                    | CA file for an https gateway with a private CA |
| OPSDESK_SMS_HTTP_BODY            | see HTTP_BODY      | JSON object of field → template ({mobile} {text} {key}) |
| OPSDESK_SMS_HTTP_AUTH_HEADER     |                    | e.g. "Authorization: Bearer xyz" |
| OPSDESK_SMS_HTTP_SUCCESS         | status             | "status" (any 2xx), "json:field=value", "xml:element=value", "text:value" |
| OPSDESK_SMS_HTTP_TIMEOUT         | 10                 | seconds |
| OPSDESK_SMS_SMPP_HOST/PORT       | 127.0.0.1 / 2775   | SMSC |
| OPSDESK_SMS_SMPP_SYSTEM_ID/PASSWORD / SOURCE |         | bind credentials, sender address |
| OPSDESK_SMS_SMPP_SOURCE_TON/NPI  | 0 / 1              | TON/NPI of a numeric sender (letters: alphanumeric) |
| OPSDESK_SMS_SMPP_DEST_FORMAT     | national           | national (13800138000 as TON 2) or international (86… as TON 1) |
| OPSDESK_SMS_SMPP_COUNTRY_CODE    | 86                 | prefixed when DEST_FORMAT is international |
| OPSDESK_SMS_SMPP_WINDOW          | 10                 | submit_sm in flight before their answers |
| OPSDESK_SMS_BATCH_SIZE           | 200                | messages a worker claims at once |
| OPSDESK_SMS_RECORD_EVERY         | 50                 | outcomes written after this many sends (what a killed worker can resend) |
| OPSDESK_SMS_LEASE_SECONDS        | 15                 | a claim unrenewed this long is free again (a killed worker's messages) |
| OPSDESK_SMS_MAX_ATTEMPTS         | 8                  | then the notification is dead |
| OPSDESK_SMS_RETRY_BASE           | 15                 | seconds; doubles each attempt |
| OPSDESK_SMS_RETRY_MAX            | 1800               | seconds; cap of the back-off |
| OPSDESK_SMS_GROUP_WAIT           | 10                 | seconds a message about an object waits for more of the same |
| OPSDESK_SMS_RATE_LIMIT           | 10                 | messages per recipient per window (then one digest) |
| OPSDESK_SMS_RATE_WINDOW          | 600                | seconds |
| OPSDESK_SMS_QUIET_HOURS          |                    | e.g. 22:00-07:00 (local time); non-urgent waits |
| OPSDESK_SMS_RELAY_GRACE         | 60                 | seconds before the dispatcher re-sends a queued row |
| OPSDESK_NOTIFICATIONS_QUEUE      | notifications      | Celery queue of delivery tasks |
"""

from __future__ import annotations

import datetime as dt
import json
import os

from celery import current_app
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

__all__ = ["get", "get_int", "get_float", "quiet_hours", "HTTP_BODY", "is_eager"]

HTTP_BODY = {"mobile": "{mobile}", "content": "{text}", "msgid": "{key}"}

DEFAULTS: dict[str, str] = {
    "OPSDESK_SMS_BACKEND": "outbox",
    "OPSDESK_SMS_HTTP_URL": "",
    "OPSDESK_SMS_HTTP_METHOD": "POST",
    "OPSDESK_SMS_HTTP_FORMAT": "json",
    "OPSDESK_SMS_HTTP_XML_ROOT": "sms",
    "OPSDESK_SMS_HTTP_SIGNER": "",
    "OPSDESK_SMS_HTTP_SIGN_SECRET": "",
    "OPSDESK_SMS_HTTP_CA_BUNDLE": "",
    "OPSDESK_SMS_HTTP_BODY": json.dumps(HTTP_BODY),
    "OPSDESK_SMS_HTTP_AUTH_HEADER": "",
    "OPSDESK_SMS_HTTP_SUCCESS": "status",
    "OPSDESK_SMS_HTTP_TIMEOUT": "10",
    "OPSDESK_SMS_SMPP_HOST": "127.0.0.1",
    "OPSDESK_SMS_SMPP_PORT": "2775",
    "OPSDESK_SMS_SMPP_SYSTEM_ID": "opsdesk",
    "OPSDESK_SMS_SMPP_PASSWORD": "",
    "OPSDESK_SMS_SMPP_SOURCE": "95500",
    "OPSDESK_SMS_SMPP_SOURCE_TON": "0",
    "OPSDESK_SMS_SMPP_SOURCE_NPI": "1",
    "OPSDESK_SMS_SMPP_DEST_FORMAT": "national",
    "OPSDESK_SMS_SMPP_COUNTRY_CODE": "86",
    "OPSDESK_SMS_SMPP_WINDOW": "10",
    "OPSDESK_SMS_BATCH_SIZE": "200",
    "OPSDESK_SMS_RECORD_EVERY": "50",
    "OPSDESK_SMS_LEASE_SECONDS": "15",
    "OPSDESK_SMS_MAX_ATTEMPTS": "8",
    "OPSDESK_SMS_RETRY_BASE": "15",
    "OPSDESK_SMS_RETRY_MAX": "1800",
    "OPSDESK_SMS_GROUP_WAIT": "10",
    "OPSDESK_SMS_RATE_LIMIT": "10",
    "OPSDESK_SMS_RATE_WINDOW": "600",
    "OPSDESK_SMS_QUIET_HOURS": "",
    "OPSDESK_SMS_RELAY_GRACE": "60",
    "OPSDESK_SMS_LANGUAGE": "zh-hans",
    "OPSDESK_NOTIFICATIONS_QUEUE": "notifications",
}


def get(name: str) -> str:
    """Django setting if set, else the environment, else the embedded default."""
    value = getattr(settings, name, None)
    if value is None or value == "":
        value = os.environ.get(name, "")
    if value == "":
        value = DEFAULTS.get(name, "")
    return str(value)


def get_int(name: str) -> int:
    try:
        return int(get(name))
    except ValueError:
        raise ImproperlyConfigured(f"{name}: expected an integer, got {get(name)!r}") from None


def get_float(name: str) -> float:
    try:
        return float(get(name))
    except ValueError:
        raise ImproperlyConfigured(f"{name}: expected a number, got {get(name)!r}") from None


def get_list(name: str) -> list[str]:
    return [v.strip() for v in get(name).split(",") if v.strip()]


def quiet_hours() -> tuple[dt.time, dt.time] | None:
    """(start, end) in local time, or None. "22:00-07:00" wraps past midnight."""
    value = get("OPSDESK_SMS_QUIET_HOURS").strip()
    if not value:
        return None
    try:
        start, end = (dt.time.fromisoformat(part.strip()) for part in value.split("-"))
    except ValueError:
        raise ImproperlyConfigured(
            f"OPSDESK_SMS_QUIET_HOURS: expected HH:MM-HH:MM, got {value!r}"
        ) from None
    return start, end


def is_eager() -> bool:
    """True when tasks run in-process (the embedded default: no broker)."""
    # The project's app, without importing the project (notifications sits below it).
    return bool(current_app.conf.task_always_eager)

"""An HTTP SMS gateway: the common shape of operators' and banks' SMS platforms.

Configured by URL, method, form or JSON body (a JSON object whose string values are templates
with {mobile}, {text} and {key}), an optional auth header, and which response means success:
"status" (any 2xx) or "json:field=value" (2xx and that field of the JSON answer has that value).
The idempotency key goes in the body (as configured) and in an Idempotency-Key header.

Timeouts, connection errors, 429 and 5xx are temporary; other 4xx and a 2xx that is not a success
answer are permanent.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.parse
import urllib.request

from django.core.exceptions import ImproperlyConfigured

from notifications import conf
from notifications.backends import OutgoingMessage, PermanentFailure, TemporaryFailure

__all__ = ["send", "build_request"]


def _body_template() -> dict[str, str]:
    raw = conf.get("OPSDESK_SMS_HTTP_BODY")
    try:
        body = json.loads(raw)
    except ValueError:
        raise ImproperlyConfigured(f"OPSDESK_SMS_HTTP_BODY: not JSON: {raw!r}") from None
    if not isinstance(body, dict):
        raise ImproperlyConfigured("OPSDESK_SMS_HTTP_BODY: expected a JSON object")
    return body


def _fill(value, message: OutgoingMessage):
    if isinstance(value, str):
        return value.replace("{mobile}", message.address).replace("{text}", message.text).replace(
            "{key}", message.key)
    return value


def build_request(message: OutgoingMessage) -> urllib.request.Request:
    url = conf.get("OPSDESK_SMS_HTTP_URL")
    if not url:
        raise ImproperlyConfigured("OPSDESK_SMS_HTTP_URL: the http SMS backend needs a gateway URL")
    method = conf.get("OPSDESK_SMS_HTTP_METHOD").upper()
    fields = {name: _fill(value, message) for name, value in _body_template().items()}
    headers = {"Idempotency-Key": message.key, "User-Agent": "OpsDesk"}
    auth = conf.get("OPSDESK_SMS_HTTP_AUTH_HEADER")
    if auth:
        name, _, value = auth.partition(":")
        headers[name.strip()] = value.strip()
    if method == "GET":
        query = urllib.parse.urlencode(fields)
        return urllib.request.Request(f"{url}{'&' if '?' in url else '?'}{query}", headers=headers, method="GET")
    if conf.get("OPSDESK_SMS_HTTP_FORMAT") == "form":
        data = urllib.parse.urlencode(fields).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
    else:
        data = json.dumps(fields, ensure_ascii=False).encode()
        headers["Content-Type"] = "application/json; charset=utf-8"
    return urllib.request.Request(url, data=data, headers=headers, method=method)


def _check_success(status: int, body: bytes) -> str:
    rule = conf.get("OPSDESK_SMS_HTTP_SUCCESS")
    text = body.decode("utf-8", "replace")
    if rule == "status":
        return _message_id(text)
    if rule.startswith("json:"):
        field, _, expected = rule[5:].partition("=")
        try:
            answer = json.loads(text)
        except ValueError:
            raise PermanentFailure(f"gateway answered {status} with non-JSON: {text[:200]}") from None
        if str(answer.get(field)) != expected:
            raise PermanentFailure(f"gateway refused: {text[:200]}")
        return str(answer.get("msgid") or answer.get("id") or answer.get("message_id") or "")
    raise ImproperlyConfigured(f"OPSDESK_SMS_HTTP_SUCCESS: expected 'status' or 'json:field=value', got {rule!r}")


def _message_id(text: str) -> str:
    try:
        answer = json.loads(text)
    except ValueError:
        return ""
    if isinstance(answer, dict):
        return str(answer.get("msgid") or answer.get("id") or answer.get("message_id") or "")
    return ""


def send(message: OutgoingMessage) -> str:
    request = build_request(message)
    timeout = conf.get_float("OPSDESK_SMS_HTTP_TIMEOUT")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return _check_success(response.status, response.read())
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:200].decode("utf-8", "replace")
        if exc.code >= 500 or exc.code in (408, 429):
            raise TemporaryFailure(f"gateway answered {exc.code}: {detail}") from None
        raise PermanentFailure(f"gateway answered {exc.code}: {detail}") from None
    except TimeoutError as exc:
        raise TemporaryFailure(f"gateway timed out after {timeout:g}s") from exc
    except (urllib.error.URLError, ConnectionError, http.client.HTTPException, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise TemporaryFailure(f"gateway unreachable: {reason.__class__.__name__}: {reason}") from None

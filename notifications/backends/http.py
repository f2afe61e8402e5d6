"""An HTTP SMS gateway: the common shapes of operators' and banks' SMS platforms.

Configured by URL, method and body format — `json`, `form` (x-www-form-urlencoded) or `xml` (one
element per field under OPSDESK_SMS_HTTP_XML_ROOT) — from OPSDESK_SMS_HTTP_BODY, a JSON object whose
string values are templates with {mobile}, {text} and {key}; GET puts the fields in the query. An
optional auth header, an optional signer (OPSDESK_SMS_HTTP_SIGNER: a dotted path to
`sign(request: GatewayRequest) -> None`, which may add headers or query parameters or rewrite the
body; `notifications.backends.http.hmac_sha256` is built in), and which answer means success:
"status" (any 2xx), "json:field=value", "xml:element=value" or "text:value" (the body, trimmed,
equals value). The idempotency key goes in the body (as configured) and in an Idempotency-Key header.

One kept-alive connection pool per worker process (urllib3): a batch costs one TCP handshake, not
one per message. Timeouts, connection errors, 429 and 5xx are temporary; other 4xx and a 2xx that
is not a success answer are permanent.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
import urllib.parse
from dataclasses import dataclass, field
from xml.etree import ElementTree

import urllib3
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from notifications import conf
from notifications.backends import Backend, OutgoingMessage, PermanentFailure, TemporaryFailure

__all__ = ["HttpBackend", "GatewayRequest", "build_request", "check_success", "encode_body", "hmac_sha256"]

FORMATS = ("json", "form", "xml")
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass
class GatewayRequest:
    method: str
    url: str
    fields: dict
    headers: dict = field(default_factory=dict)
    body: bytes | None = None


def _body_template() -> dict:
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


def encode_body(fields: dict, body_format: str) -> tuple[bytes, str]:
    """The body bytes and content type of `fields` in one of FORMATS."""
    if body_format == "form":
        return urllib.parse.urlencode(fields).encode(), "application/x-www-form-urlencoded; charset=utf-8"
    if body_format == "xml":
        root = ElementTree.Element(conf.get("OPSDESK_SMS_HTTP_XML_ROOT"))
        for name, value in fields.items():
            # XML 1.0 cannot carry most control characters at all: they are left out, not sent broken.
            ElementTree.SubElement(root, str(name)).text = XML_ILLEGAL.sub("", "" if value is None else str(value))
        return (ElementTree.tostring(root, encoding="utf-8", xml_declaration=True),
                "application/xml; charset=utf-8")
    if body_format == "json":
        return json.dumps(fields, ensure_ascii=False).encode(), "application/json; charset=utf-8"
    raise ImproperlyConfigured(f"OPSDESK_SMS_HTTP_FORMAT: expected one of {', '.join(FORMATS)}, got {body_format!r}")


def build_request(message: OutgoingMessage) -> GatewayRequest:
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
    request = GatewayRequest(method=method, url=url, fields=fields, headers=headers)
    if method == "GET":
        request.url = f"{url}{'&' if '?' in url else '?'}{urllib.parse.urlencode(fields)}"
    else:
        request.body, headers["Content-Type"] = encode_body(fields, conf.get("OPSDESK_SMS_HTTP_FORMAT"))
    signer = conf.get("OPSDESK_SMS_HTTP_SIGNER")
    if signer:
        try:
            sign = import_string(signer)
        except ImportError as exc:
            raise ImproperlyConfigured(f"OPSDESK_SMS_HTTP_SIGNER: cannot import {signer!r}: {exc}") from None
        sign(request)
    return request


def hmac_sha256(request: GatewayRequest) -> None:
    """A signer many platforms use: X-Timestamp (Unix seconds) and X-Signature, the hex HMAC-SHA256
    of timestamp + body (or of timestamp + query for GET) with OPSDESK_SMS_HTTP_SIGN_SECRET."""
    secret = conf.get("OPSDESK_SMS_HTTP_SIGN_SECRET")
    if not secret:
        raise ImproperlyConfigured("OPSDESK_SMS_HTTP_SIGN_SECRET: the hmac_sha256 signer needs a secret")
    timestamp = str(int(time.time()))
    signed = request.body if request.body is not None else urllib.parse.urlsplit(request.url).query.encode()
    request.headers["X-Timestamp"] = timestamp
    request.headers["X-Signature"] = hmac.new(secret.encode(), timestamp.encode() + signed, hashlib.sha256).hexdigest()


def check_success(status: int, body: bytes) -> str:
    """The gateway's message id if the answer means success, else PermanentFailure."""
    rule = conf.get("OPSDESK_SMS_HTTP_SUCCESS")
    text = body.decode("utf-8", "replace")
    if rule == "status":
        return _message_id(text)
    kind, _, expectation = rule.partition(":")
    if kind == "json":
        name, _, expected = expectation.partition("=")
        try:
            answer = json.loads(text)
        except ValueError:
            raise PermanentFailure(f"gateway answered {status} with non-JSON: {text[:200]}") from None
        if not isinstance(answer, dict) or str(answer.get(name)) != expected:
            raise PermanentFailure(f"gateway refused: {text[:200]}")
        return _message_id(text)
    if kind == "xml":
        name, _, expected = expectation.partition("=")
        try:
            root = ElementTree.fromstring(body)  # noqa: S314  (a gateway's answer; no entity expansion in ElementTree)
        except ElementTree.ParseError:
            raise PermanentFailure(f"gateway answered {status} with non-XML: {text[:200]}") from None
        found = root if root.tag == name else root.find(f".//{name}")
        if found is None or (found.text or "").strip() != expected:
            raise PermanentFailure(f"gateway refused: {text[:200]}")
        ident = next((root.findtext(f".//{tag}") for tag in ("msgid", "id", "message_id", "messageId")
                      if root.findtext(f".//{tag}")), "")
        return ident.strip()
    if kind == "text":
        if text.strip() != expectation:
            raise PermanentFailure(f"gateway refused: {text[:200]}")
        return ""
    raise ImproperlyConfigured("OPSDESK_SMS_HTTP_SUCCESS: expected 'status', 'json:field=value', "
                               f"'xml:element=value' or 'text:value', got {rule!r}")


def _message_id(text: str) -> str:
    try:
        answer = json.loads(text)
    except ValueError:
        return ""
    if isinstance(answer, dict):
        return str(answer.get("msgid") or answer.get("id") or answer.get("message_id") or "")
    return ""


class HttpBackend(Backend):
    settings = ("OPSDESK_SMS_HTTP_URL", "OPSDESK_SMS_HTTP_TIMEOUT", "OPSDESK_SMS_HTTP_CA_BUNDLE")

    def __init__(self):
        timeout = conf.get_float("OPSDESK_SMS_HTTP_TIMEOUT")
        self.timeout = timeout
        ca_bundle = conf.get("OPSDESK_SMS_HTTP_CA_BUNDLE") or None
        # Retries are the engine's (with back-off and a record per attempt), never urllib3's.
        self.pool = urllib3.PoolManager(num_pools=4, maxsize=1, retries=False, ca_certs=ca_bundle,
                                        timeout=urllib3.Timeout(connect=timeout, read=timeout))

    def send(self, message: OutgoingMessage) -> str:
        request = build_request(message)
        try:
            response = self.pool.request(request.method, request.url, body=request.body, headers=request.headers,
                                         preload_content=True)
        except urllib3.exceptions.TimeoutError as exc:
            raise TemporaryFailure(f"gateway timed out after {self.timeout:g}s") from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise TemporaryFailure(f"gateway unreachable: {reason.__class__.__name__}: {reason}") from None
        if response.status >= 300:
            detail = response.data[:200].decode("utf-8", "replace")
            if response.status >= 500 or response.status in (408, 429):
                raise TemporaryFailure(f"gateway answered {response.status}: {detail}")
            raise PermanentFailure(f"gateway answered {response.status}: {detail}")
        return check_success(response.status, response.data)

    def close(self) -> None:
        self.pool.clear()


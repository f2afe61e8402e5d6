"""The HTTP gateway backend in the request shapes operators' platforms take (JSON, form, XML, GET),
with a signature, and a bank's own backend plugged in by dotted path — all against a real HTTP
server on loopback (or the bank's module), through the delivery engine."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import uuid
from xml.etree import ElementTree

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from notifications.backends import OutgoingMessage
from notifications.backends.http import HttpBackend
from notifications.delivery import deliver_due
from notifications.models import Notification, NotificationStatus
from notifications.services import notify
from tests.notifications import custom_backend

pytestmark = pytest.mark.django_db

FIELDS = {"mobile": "{mobile}", "content": "{text}", "msgid": "{key}", "sign_name": "省农信"}


@pytest.fixture
def gateway(http_gateway, settings):
    settings.OPSDESK_SMS_HTTP_BODY = json.dumps(FIELDS, ensure_ascii=False)
    settings.OPSDESK_SMS_HTTP_SUCCESS = "status"  # the default rule; the tests below set their own
    return http_gateway


def send_one(person, text="【运维服务台】核心系统告警") -> Notification:
    with transaction.atomic():
        [row] = notify(event="test.shape", text=text, key=f"t:{uuid.uuid4().hex}", people=[person], urgent=True)
    deliver_due(only=[row.pk])
    return Notification.objects.get(pk=row.pk)


@pytest.mark.parametrize(("body_format", "content_type"), [
    ("json", "application/json; charset=utf-8"),
    ("form", "application/x-www-form-urlencoded; charset=utf-8"),
    ("xml", "application/xml; charset=utf-8"),
])
def test_each_body_format_reaches_the_gateway_with_every_field(gateway, settings, org, body_format, content_type):
    settings.OPSDESK_SMS_HTTP_FORMAT = body_format
    settings.OPSDESK_SMS_HTTP_XML_ROOT = "SubmitRequest"
    settings.OPSDESK_SMS_HTTP_SUCCESS = "json:code=0"
    person = org.people["operator"]
    row = send_one(person)
    assert row.status == NotificationStatus.SENT and row.provider_message_id == f"gw-{row.idempotency_key}"
    [entry] = gateway.received
    assert entry["headers"]["Content-Type"] == content_type
    assert entry["fields"] == {"mobile": person.mobile, "content": "【运维服务台】核心系统告警",
                               "msgid": row.idempotency_key, "sign_name": "省农信"}
    if body_format == "xml":
        assert ElementTree.fromstring(entry["raw"]).tag == "SubmitRequest"


def test_get_puts_the_fields_in_the_query(gateway, settings, org):
    settings.OPSDESK_SMS_HTTP_METHOD = "GET"
    settings.OPSDESK_SMS_HTTP_SUCCESS = "json:code=0"
    row = send_one(org.people["operator"], text="中文 & 符号=测试")
    assert row.status == NotificationStatus.SENT
    [entry] = gateway.received
    assert entry["method"] == "GET" and entry["fields"]["content"] == "中文 & 符号=测试"


def test_an_xml_answer_is_read_for_success_and_message_id(gateway, settings, org):
    settings.OPSDESK_SMS_HTTP_FORMAT = "xml"
    settings.OPSDESK_SMS_HTTP_SUCCESS = "xml:code=0"
    gateway.answer_format = "xml"
    row = send_one(org.people["operator"])
    assert row.status == NotificationStatus.SENT and row.provider_message_id == f"gw-{row.idempotency_key}"
    gateway.mode = "400"
    refused = send_one(org.people["dispatcher"])
    assert refused.status == NotificationStatus.DEAD and "400" in refused.last_error


def test_the_hmac_signer_signs_timestamp_and_body(gateway, settings, org):
    settings.OPSDESK_SMS_HTTP_SIGNER = "notifications.backends.http.hmac_sha256"
    settings.OPSDESK_SMS_HTTP_SIGN_SECRET = "s3cret-from-the-operator"
    settings.OPSDESK_SMS_HTTP_SUCCESS = "json:code=0"
    assert send_one(org.people["operator"]).status == NotificationStatus.SENT
    [entry] = gateway.received
    headers = entry["headers"]
    expected = hmac.new(b"s3cret-from-the-operator", headers["X-Timestamp"].encode() + entry["raw"],
                        hashlib.sha256).hexdigest()
    assert headers["X-Signature"] == expected


def test_a_signer_that_cannot_be_imported_is_a_clear_configuration_error(gateway, settings):
    settings.OPSDESK_SMS_HTTP_SIGNER = "mybank.nowhere.sign"
    with pytest.raises(ImproperlyConfigured, match="OPSDESK_SMS_HTTP_SIGNER"):
        HttpBackend().send(OutgoingMessage(address="13800138000", text="x", key="k"))


@given(text=st.text(min_size=1, max_size=300))
@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_text_survives_the_xml_and_form_bodies(gateway, settings, text):
    """Hostile text (markup, entities, quotes, any Unicode) reaches the gateway as written: never a
    broken or injected body. XML's own rules apply to it: line ends become \n, and the control
    characters XML 1.0 cannot carry are left out."""
    settings.OPSDESK_SMS_HTTP_SUCCESS = "json:code=0"
    xml_text = re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]", "", text).replace("\r\n", "\n").replace("\r", "\n")
    for body_format, expected in (("form", text), ("xml", xml_text)):
        settings.OPSDESK_SMS_HTTP_FORMAT = body_format
        gateway.reset("ok")
        backend = HttpBackend()
        try:
            backend.send(OutgoingMessage(address="13800138000", text=text, key="fuzz"))
        finally:
            backend.close()
        [entry] = gateway.received
        assert entry["fields"] == {"mobile": "13800138000", "content": expected, "msgid": "fuzz", "sign_name": "省农信"}


@pytest.mark.parametrize("path", ["tests.notifications.custom_backend.RecordingBackend",
                                  "tests.notifications.custom_backend"])
def test_a_banks_own_backend_is_plugged_in_by_dotted_path(settings, org, path):
    settings.OPSDESK_SMS_BACKEND = path
    settings.OPSDESK_SMS_GROUP_WAIT = "0"
    custom_backend.SENT.clear()
    person = org.people["operator"]
    row = send_one(person, text="本行自有短信平台")
    assert row.status == NotificationStatus.SENT
    assert [(m.address, m.text) for m in custom_backend.SENT] == [(person.mobile, "本行自有短信平台")]
    assert row.provider_message_id in ("bank-1", "fn-1")


def test_an_unknown_backend_is_a_clear_configuration_error(settings):
    from notifications.backends import get_backend

    settings.OPSDESK_SMS_BACKEND = "carrier-pigeon"
    with pytest.raises(ImproperlyConfigured, match="unknown backend 'carrier-pigeon'"):
        get_backend()
    settings.OPSDESK_SMS_BACKEND = "mybank.sms.Missing"
    with pytest.raises(ImproperlyConfigured, match="cannot import"):
        get_backend()

"""The SMPP 3.4 backend (smpplib) against the local SMSC simulator (deploy/local/start-smsc-sim.sh)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import transaction

from notifications.backends import OutgoingMessage, PermanentFailure, TemporaryFailure
from notifications.backends.smpp import send
from notifications.models import Notification, NotificationStatus
from notifications.services import notification_deliver, notify
from tests.notifications.gateway import _free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def smsc(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("smsc")
    port = _free_port()
    subprocess.run(["bash", str(ROOT / "deploy/local/start-smsc-sim.sh"), str(data_dir), str(port)], check=True,
                   env={**os.environ, "PYTHON": sys.executable}, capture_output=True, timeout=120)
    pid = int((data_dir / "smsc.pid").read_text())
    yield {"port": port, "log": data_dir / "smsc.log"}
    os.kill(pid, signal.SIGTERM)


@pytest.fixture
def smpp_settings(settings, smsc):
    settings.OPSDESK_SMS_BACKEND = "smpp"
    settings.OPSDESK_SMS_SMPP_PORT = str(smsc["port"])
    settings.OPSDESK_SMS_HTTP_TIMEOUT = "5"
    return settings


def test_a_chinese_message_is_submitted_and_gets_a_message_id(smpp_settings, smsc):
    message_id = send(OutgoingMessage(address="13800138000", text="【运维服务台】核心系统严重告警，请立即确认。",
                                      key="k1"))
    assert message_id and message_id.isdigit()


def test_a_long_message_goes_in_parts(smpp_settings):
    ids = send(OutgoingMessage(address="13800138000", text="长短信分段测试。" * 20, key="k2")).split(",")
    assert len(ids) >= 3 and len(set(ids)) == len(ids)


def test_a_refused_submit_is_permanent_and_throttling_is_temporary(smpp_settings):
    with pytest.raises(PermanentFailure, match="0x45"):
        send(OutgoingMessage(address="333", text="x", key="k3"))
    with pytest.raises(TemporaryFailure, match="0x58"):
        send(OutgoingMessage(address="444", text="x", key="k4"))
    with pytest.raises(TemporaryFailure, match="0x14"):
        send(OutgoingMessage(address="555", text="x", key="k5"))


def test_no_smsc_listening_is_temporary(settings):
    settings.OPSDESK_SMS_BACKEND = "smpp"
    settings.OPSDESK_SMS_SMPP_PORT = str(_free_port())
    with pytest.raises(TemporaryFailure, match="unreachable"):
        send(OutgoingMessage(address="13800138000", text="x", key="k6"))


@pytest.mark.django_db
def test_a_notification_is_delivered_through_smpp(smpp_settings, org):
    with transaction.atomic():
        [row] = notify(event="incident.opened", text="数据库告警", key="inc:1", people=[org.people["operator"]],
                       urgent=True)
    assert notification_deliver(notification_id=row.pk).status == "sent"
    row = Notification.objects.get(pk=row.pk)
    assert row.status == NotificationStatus.SENT and row.provider_message_id.isdigit()

"""The SMPP 3.4 backend (smpplib) against the local SMSC simulator (deploy/local/start-smsc-sim.sh)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import transaction
from django.urls import reverse

from notifications.backends import OutgoingMessage, PermanentFailure, TemporaryFailure
from notifications.backends.smpp import send
from notifications.models import Notification, NotificationStatus
from notifications.services import deliver_due, notify
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
    assert deliver_due(only=[row.pk]).outcomes == {row.pk: NotificationStatus.SENT}
    row = Notification.objects.get(pk=row.pk)
    assert row.status == NotificationStatus.SENT and row.provider_message_id.isdigit()


def _submits(log: Path, since: int) -> list[dict]:
    lines = log.read_text().splitlines()[since:]
    return [dict(part.split("=", 1) for part in line.split()[1:]) for line in lines if line.startswith("submit ")]


@pytest.mark.django_db
def test_a_batch_goes_through_one_transceiver_bind_with_national_numbers(smpp_settings, smsc, org):
    from notifications.backends import close_backends
    from notifications.delivery import deliver_due

    close_backends()  # start from no bind, as a fresh worker does
    start = len(smsc["log"].read_text().splitlines())
    people = [org.people[name] for name in ("operator", "dispatcher", "member", "county", "manager")]
    with transaction.atomic():
        rows = [notify(event="t.batch", text=f"批量短信{i}", key=f"smpp-batch:{i}", people=[p], urgent=True)[0]
                for i, p in enumerate(people * 5)]
    report = deliver_due(only=[r.pk for r in rows])
    assert report.counts == {NotificationStatus.SENT: 25}
    log = smsc["log"].read_text().splitlines()[start:]
    assert sum(1 for line in log if line.startswith("bind ")) == 1  # one bind for the whole batch
    submits = _submits(smsc["log"], start)
    assert len(submits) == 25 and len({s["session"] for s in submits}) == 1
    # A mainland number goes as a national number (TON 2, NPI 1 ISDN); the numeric sender as unknown/ISDN.
    assert {(s["dest"], s["ton"], s["npi"]) for s in submits} == {(p.mobile, "2", "1") for p in people}
    assert {(s["src"], s["src_ton"], s["src_npi"]) for s in submits} == {("95500", "0", "1")}
    ids = [Notification.objects.get(pk=r.pk).provider_message_id for r in rows]
    assert len(set(ids)) == 25
    close_backends()


def test_international_numbers_and_an_alphanumeric_sender(smpp_settings, smsc):
    from notifications.backends import close_backends

    smpp_settings.OPSDESK_SMS_SMPP_SOURCE = "OpsDesk"
    close_backends()
    start = len(smsc["log"].read_text().splitlines())
    send(OutgoingMessage(address="+85291234567", text="香港号码", key="intl-1"))
    smpp_settings.OPSDESK_SMS_SMPP_DEST_FORMAT = "international"
    send(OutgoingMessage(address="13800138000", text="国际格式", key="intl-2"))
    hong_kong, mainland = _submits(smsc["log"], start)
    assert (hong_kong["dest"], hong_kong["ton"], hong_kong["npi"]) == ("85291234567", "1", "1")
    assert (mainland["dest"], mainland["ton"]) == ("8613800138000", "1")
    assert (hong_kong["src"], hong_kong["src_ton"], hong_kong["src_npi"]) == ("OpsDesk", "5", "0")
    close_backends()


@pytest.mark.django_db
def test_delivery_receipts_say_delivered_or_failed_at_the_phone(smpp_settings, org, client):
    from notifications.backends import close_backends
    from notifications.delivery import collect_receipts, deliver_due
    from notifications.models import ReceiptStatus
    from tests.helpers import wait_for

    close_backends()
    reached, missed = org.people["operator"], org.people["dispatcher"]
    missed.mobile = "13900000666"  # the simulator's network reports this phone unreachable
    missed.save()
    with transaction.atomic():
        rows = [notify(event="t.receipt", text="回执测试", key=f"rcpt:{p.pk}", people=[p], urgent=True)[0]
                for p in (reached, missed)]
    deliver_due(only=[r.pk for r in rows])

    def receipts_in():
        collect_receipts()
        return all(Notification.objects.get(pk=r.pk).receipt for r in rows)

    wait_for(receipts_in, timeout=15, message="both delivery receipts")
    ok, failed = (Notification.objects.get(pk=r.pk) for r in rows)
    assert (ok.status, ok.receipt, ok.receipt_state) == (NotificationStatus.SENT, ReceiptStatus.DELIVERED, "DELIVRD")
    assert failed.receipt == ReceiptStatus.UNDELIVERED and failed.receipt_state == "UNDELIV 001"
    assert failed.receipt_at is not None
    close_backends()
    # The delivery log says it in words.
    client.force_login(org.people["admin"])
    log = client.get(reverse("notifications:log")).content.decode()
    assert "已送达手机" in log and "未能送达手机" in log

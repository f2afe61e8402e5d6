"""Retention: what the daily purge removes, what it never touches, and that it is safe to repeat.

Data is written through the desk's services at a date in the past (time-machine), then purged with
the real command or service at today's date.
"""

from __future__ import annotations

import datetime as dt
import io
import threading
import uuid

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db import connections
from django.utils import timezone

from alerts import services as alert_services
from alerts.models import Alert, Incident, IncidentEvent, IngestedMessage, MessageAttachment, RuleChange
from alerts.retention import raw_mail_purge
from notifications.models import Notification, NotificationStatus
from notifications.retention import notifications_purge
from reports.retention import purge_expired
from tests.project.mail import garbled_mail, nagios_mail
from tests.project.test_startup import assert_one_clear_line, manage
from tests.tickets.helpers import act, file_fault_report
from tickets.models import RequestEvent
from workflow.incidents import IncidentState

LONG_AGO = dt.timedelta(days=400)


def purge(*args: str) -> str:
    out = io.StringIO()
    call_command("purge_expired", *args, stdout=out)
    return out.getvalue()


def ingest_at(when: dt.datetime, *raws: bytes) -> list[IngestedMessage]:
    with time_machine.travel(when, tick=False):
        handled = alert_services.ingest_messages(
            items=[alert_services.Inbound(raw=raw, origin="upload") for raw in raws])
    return [IngestedMessage.objects.get(pk=h.message_pk) for h in handled]


def resolve(message: IngestedMessage, operator) -> Incident:
    incident = message.alerts.get().incident
    alert_services.incident_resolve(actor=operator, incident_pk=incident.pk, comment="处理完毕")
    return Incident.objects.get(pk=incident.pk)


def notification(status: str, *, age: dt.timedelta, merged_into: Notification | None = None) -> Notification:
    row = Notification.objects.create(event="request.handoff", address="13800000001", text="请处理",
                                      idempotency_key=uuid.uuid4().hex, status=status, merged_into=merged_into)
    Notification.objects.filter(pk=row.pk).update(created_at=timezone.now() - age)
    return row


@pytest.fixture
def old_resolved_mail(org, django_capture_on_commit_callbacks):
    """A mail read 400 days ago into an incident that was resolved then, with an attachment."""
    with django_capture_on_commit_callbacks(execute=True):
        (message,) = ingest_at(timezone.now() - LONG_AGO, nagios_mail("szhxdb01", "Disk /oradata"))
    MessageAttachment.objects.create(message=message, filename="df.txt", content_type="text/plain", size=9,
                                     data=b"disk full")
    with time_machine.travel(timezone.now() - LONG_AGO + dt.timedelta(hours=1), tick=False):
        resolve(message, org.people["operator"])
    return message


def test_old_raw_mail_loses_its_bytes_but_keeps_the_record_alerts_and_incident(org, old_resolved_mail, client):
    message = old_resolved_mail
    alert, incident = message.alerts.get(), message.alerts.get().incident
    events = list(IncidentEvent.objects.filter(incident=incident).values_list("pk", "action"))
    (recent,) = ingest_at(timezone.now(), nagios_mail("szhxdb02", "Swap"))
    before = {f: getattr(message, f) for f in ("subject", "sender", "message_id", "identity", "fingerprint",
                                                "sent_at", "received_at", "outcome", "alert_count", "raw_size")}

    assert "raw_mail: 1 rows purged (keep 180 days)" in purge()

    message.refresh_from_db()
    assert bytes(message.raw) == b"" and message.raw_truncated
    assert {f: getattr(message, f) for f in before} == before
    assert not MessageAttachment.objects.filter(message=message).exists()
    assert Alert.objects.get(pk=alert.pk).message_id == message.pk
    assert Incident.objects.get(pk=incident.pk).state == IncidentState.RESOLVED
    assert list(IncidentEvent.objects.filter(incident=incident).values_list("pk", "action")) == events
    recent.refresh_from_db()
    assert bytes(recent.raw).startswith(b"Date:") and not recent.raw_truncated

    # The operator asking to correct the old reading is told why it cannot be read again (no 500).
    client.force_login(org.people["operator"])
    response = client.get("/alerts/teach/", {"incident": incident.pk}, secure=True)
    assert response.status_code == 400
    assert "truncated" in response.content.decode() or "截断" in response.content.decode()


def test_the_same_mail_delivered_again_after_the_purge_is_still_a_duplicate(org, django_capture_on_commit_callbacks):
    raw = nagios_mail("szhxdb03", "Disk /arch")
    with django_capture_on_commit_callbacks(execute=True):
        (first,) = ingest_at(timezone.now() - LONG_AGO, raw)
        resolve(first, org.people["operator"])
    raw_mail_purge()
    incidents = Incident.objects.count()
    (again,) = ingest_at(timezone.now(), raw)
    assert again.outcome == "duplicate" and again.duplicate_of_id == first.pk
    assert Incident.objects.count() == incidents


def test_quarantined_mail_and_mail_of_an_open_incident_keep_their_raw_copy(org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        quarantined, of_open = ingest_at(timezone.now() - LONG_AGO, garbled_mail(), nagios_mail("szhxap01", "CPU"))
    assert quarantined.outcome == "quarantined"
    assert of_open.alerts.get().incident.state == IncidentState.OPEN

    assert "raw_mail: 0 rows purged" in purge()
    for message in (quarantined, of_open):
        message.refresh_from_db()
        assert len(bytes(message.raw)) == message.raw_size > 0

    # Once the incident is resolved its mail is no longer needed; the quarantined one still is.
    with django_capture_on_commit_callbacks(execute=True):
        resolve(of_open, org.people["operator"])
    assert raw_mail_purge() == 1
    quarantined.refresh_from_db()
    assert len(bytes(quarantined.raw)) == quarantined.raw_size


def test_mail_a_rule_was_taught_from_keeps_its_raw_copy(org, old_resolved_mail):
    RuleChange.objects.create(rule_name="oradata", actor=org.people["operator"], action="created",
                              message=old_resolved_mail, after={"set_severity": "minor"})
    assert raw_mail_purge() == 0
    old_resolved_mail.refresh_from_db()
    assert len(bytes(old_resolved_mail.raw)) == old_resolved_mail.raw_size


def test_only_delivered_notifications_past_retention_are_deleted(db):
    sent_digest = notification(NotificationStatus.SENT, age=LONG_AGO)
    purged = [
        notification(NotificationStatus.SENT, age=LONG_AGO),
        sent_digest,
        notification(NotificationStatus.MERGED, age=LONG_AGO, merged_into=sent_digest),
    ]
    pending_digest = notification(NotificationStatus.QUEUED, age=LONG_AGO)
    kept = [
        notification(NotificationStatus.SENT, age=dt.timedelta(days=300)),
        pending_digest,
        notification(NotificationStatus.MERGED, age=LONG_AGO, merged_into=pending_digest),
        notification(NotificationStatus.SENDING, age=LONG_AGO),
        notification(NotificationStatus.FAILED, age=LONG_AGO),
        notification(NotificationStatus.DEAD, age=LONG_AGO),
    ]

    assert "notifications: 3 rows purged (keep 365 days)" in purge()

    assert not Notification.objects.filter(pk__in=[n.pk for n in purged]).exists()
    assert set(Notification.objects.values_list("pk", flat=True)) == {n.pk for n in kept}


def test_a_younger_merged_row_outlives_its_deleted_digest(db):
    digest = notification(NotificationStatus.SENT, age=LONG_AGO)
    young = notification(NotificationStatus.MERGED, age=dt.timedelta(days=364), merged_into=digest)
    assert notifications_purge() == 1
    young.refresh_from_db()
    assert young.merged_into_id is None and young.status == NotificationStatus.MERGED


def test_expired_sessions_are_cleared_and_live_ones_kept(org, client):
    client.force_login(org.people["teller"])
    Session.objects.create(session_key="expired" + uuid.uuid4().hex, session_data="",
                           expire_date=timezone.now() - dt.timedelta(minutes=1))

    assert "sessions: 1 rows purged (keep until expiry)" in purge()

    assert Session.objects.count() == 1
    assert client.get("/tickets/mine/", secure=True).status_code == 200  # still logged in


def test_the_audit_trails_are_never_purged(org, old_resolved_mail, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        request = file_fault_report(org)
        act(request, "escalate", org.people["county"], comment="上送")
    RuleChange.objects.create(rule_name="r", actor=org.people["admin"], action="created", after={"x": 1})
    trails = (RequestEvent, IncidentEvent, RuleChange)
    before = {model: list(model.objects.order_by("pk").values()) for model in trails}
    assert all(before.values())

    # Ten years on, with the shortest retention there is, every kind purges what it may.
    with time_machine.travel(timezone.now() + dt.timedelta(days=3650), tick=False):
        out = purge()
    assert "raw_mail: 1 rows purged" in out

    assert {model: list(model.objects.order_by("pk").values()) for model in trails} == before


def test_dry_run_counts_and_changes_nothing(org, old_resolved_mail):
    notification(NotificationStatus.SENT, age=LONG_AGO)
    sent = Notification.objects.filter(status=NotificationStatus.SENT).count()  # and the incident's SMS
    Session.objects.create(session_key="expired" + uuid.uuid4().hex, session_data="",
                           expire_date=timezone.now() - dt.timedelta(days=1))
    rows = (bytes(IngestedMessage.objects.get().raw), Notification.objects.count(), Session.objects.count(),
            MessageAttachment.objects.count())

    out = purge("--dry-run")

    assert out.splitlines() == ["raw_mail: 1 rows would be purged (keep 180 days)",
                                f"notifications: {sent} rows would be purged (keep 365 days)",
                                "sessions: 1 rows would be purged (keep until expiry)"]
    assert (bytes(IngestedMessage.objects.get().raw), Notification.objects.count(), Session.objects.count(),
            MessageAttachment.objects.count()) == rows


def test_retention_zero_keeps_everything(org, old_resolved_mail, settings):
    settings.OPSDESK_RETENTION_RAW_MAIL_DAYS = 0
    settings.OPSDESK_RETENTION_NOTIFICATIONS_DAYS = 0
    settings.OPSDESK_RETENTION_EXPIRED_SESSIONS = False
    notification(NotificationStatus.SENT, age=dt.timedelta(days=3650))
    Session.objects.create(session_key="expired" + uuid.uuid4().hex, session_data="",
                           expire_date=timezone.now() - dt.timedelta(days=1))
    notifications = Notification.objects.count()

    out = purge()

    assert out.splitlines() == ["raw_mail: kept forever (retention 0), nothing purged",
                                "notifications: kept forever (retention 0), nothing purged",
                                "sessions: kept forever (retention 0), nothing purged"]
    assert bytes(IngestedMessage.objects.get().raw) and Notification.objects.count() == notifications
    assert Session.objects.count() == 1
    # The beat tasks read the same settings.
    from alerts.tasks import purge_raw_mail
    from notifications.tasks import purge_delivered_notifications
    from reports.tasks import purge_expired_sessions

    assert (purge_raw_mail.apply().get(), purge_delivered_notifications.apply().get(),
            purge_expired_sessions.apply().get()) == (0, 0, 0)


def test_the_beat_tasks_purge(org, old_resolved_mail):
    from alerts.tasks import purge_raw_mail
    from notifications.tasks import purge_delivered_notifications
    from reports.tasks import purge_expired_sessions

    notification(NotificationStatus.SENT, age=LONG_AGO)
    sent = Notification.objects.filter(status=NotificationStatus.SENT).count()  # and the incident's SMS
    Session.objects.create(session_key="expired" + uuid.uuid4().hex, session_data="",
                           expire_date=timezone.now() - dt.timedelta(days=1))
    assert (purge_raw_mail.apply().get(), purge_delivered_notifications.apply().get(),
            purge_expired_sessions.apply().get()) == (1, sent, 1)
    # Run again the next night: nothing left to do.
    assert (purge_raw_mail.apply().get(), purge_delivered_notifications.apply().get(),
            purge_expired_sessions.apply().get()) == (0, 0, 0)


def test_the_purges_are_scheduled_once_a_day_in_the_quiet_hours_off_the_urgent_queues():
    from opsdesk.celery import app

    entries = {e["task"]: e for e in app.conf.beat_schedule.values()}
    for task in ("alerts.tasks.purge_raw_mail", "notifications.tasks.purge_delivered_notifications",
                 "reports.tasks.purge_expired_sessions"):
        schedule = entries[task]["schedule"]
        assert schedule.hour == {3} and len(schedule.minute) == 1 and schedule.day_of_week == set(range(7))
        assert entries[task]["options"]["queue"] == "default"


@pytest.mark.django_db(transaction=True)
def test_two_purges_at_once_split_the_work_and_purge_each_row_once(settings):
    """Two machines' beat (or beat and an engineer's manual run) at the same moment."""
    settings.OPSDESK_RETENTION_BATCH_SIZE = 7
    rows = []
    for n in range(60):
        digest = Notification(event="e", address=f"1380000{n:04d}", text="t", idempotency_key=f"d{n}",
                              status=NotificationStatus.SENT)
        rows.append(digest)
    Notification.objects.bulk_create(rows)
    merged = [Notification(event="e", address=d.address, text="t", idempotency_key=f"m{d.pk}",
                           status=NotificationStatus.MERGED, merged_into=d) for d in rows]
    Notification.objects.bulk_create(merged)
    Notification.objects.update(created_at=timezone.now() - LONG_AGO)
    messages = [IngestedMessage(origin="upload", fingerprint=f"{n:064d}", received_at=timezone.now() - LONG_AGO,
                                outcome="not_alert", raw=b"x" * 100, raw_size=100) for n in range(60)]
    IngestedMessage.objects.bulk_create(messages)

    results: list[tuple[int, int]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def run():
        try:
            start.wait()
            results.append((raw_mail_purge(), notifications_purge()))
        except BaseException as exc:  # reported below, with the other thread's result
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert sum(r[0] for r in results) == 60 and sum(r[1] for r in results) == 120
    assert not IngestedMessage.objects.exclude(raw=b"").exists()
    assert not Notification.objects.exists()
    # And the next night's run finds nothing.
    assert purge_expired(kinds=("raw_mail", "notifications"))[0].rows == 0


@pytest.mark.parametrize(("value", "setting"), [("-1", "OPSDESK_RETENTION_RAW_MAIL_DAYS"),
                                                ("a year", "OPSDESK_RETENTION_NOTIFICATIONS_DAYS"),
                                                ("0", "OPSDESK_RETENTION_BATCH_SIZE"),
                                                ("sometimes", "OPSDESK_RETENTION_EXPIRED_SESSIONS")])
def test_a_bad_retention_setting_is_one_line_naming_it(tmp_path, value, setting):
    import os

    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}}
    env.update({"OPSDESK_VAR_DIR": str(tmp_path), setting: value})
    assert_one_clear_line(manage("purge_expired", "--dry-run", env=env), setting)

"""Backup and restore as the bank's engineer runs them: deploy/backup/backup.sh against the suite's
PostgreSQL database, deploy/backup/restore.sh into a brand-new database, then the desk started on
the restored database (a separate process) shows the same rows and serves a request page."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from alerts import services as alert_services
from alerts.models import MessageAttachment
from notifications.models import SlaPolicy
from opsdesk.org.models import User
from tests.project.mail import garbled_mail, nagios_mail
from tests.project.test_startup import assert_one_clear_line
from tests.tickets.helpers import act, file_fault_report
from tickets import services as ticket_services
from tickets.sla import sla_check_request

# The deployment stack (nginx, an offline install, pg_dump/pg_restore, an S3 server): `make test`, not `make check`.
pytestmark = pytest.mark.deploy

ROOT = Path(__file__).resolve().parents[2]
BACKUP, RESTORE = ROOT / "deploy" / "backup" / "backup.sh", ROOT / "deploy" / "backup" / "restore.sh"

# Run in the restored desk's own process: every model's row count (the same list as the source's),
# then a request page, its attachment and an incident page through the desk's full middleware stack.
RESTORED_DESK = """
import json, os
from django.apps import apps
from django.test import Client
from opsdesk.org.models import User
args = json.loads(os.environ["RESTORED_DESK_ARGS"])
from tickets.models import Comment

# Unmanaged models (pghistory's aggregate Events) are queries over other tables, not tables.
counts = {m._meta.label: m._base_manager.count() for m in apps.get_models(include_auto_created=True)
          if not m._meta.proxy and m._meta.managed}
pages = {}
client = Client()
client.force_login(User.objects.get(username=args["teller"]))
page = client.get(f"/tickets/{args['request']}/", secure=True)
pages["request"] = [page.status_code, args["subject"] in page.content.decode()]
download = client.get(f"/tickets/{args['request']}/attachments/{args['attachment']}/", secure=True)
pages["attachment"] = [download.status_code, b"".join(download.streaming_content if download.streaming
                                                        else [download.content]).decode()]
# Writing works too (the sequences came back with the rows: a new comment does not collide).
posted = client.post(f"/tickets/{args['request']}/comments/", {"body": "恢复后继续处理"}, secure=True)
pages["comment"] = [posted.status_code, Comment.objects.filter(body="恢复后继续处理").count()]
client.force_login(User.objects.get(username=args["operator"]))
page = client.get(f"/alerts/incidents/{args['incident']}/", secure=True)
pages["incident"] = [page.status_code, args["host"] in page.content.decode()]
print(json.dumps({"counts": counts, "pages": pages}))
"""


def database_url(name: str) -> str:
    s = connection.settings_dict
    return f"postgresql://{s['USER']}:{s['PASSWORD']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{name}"


def pg_env() -> dict[str, str]:
    s = connection.settings_dict
    return {**os.environ, "PGHOST": s["HOST"] or "127.0.0.1", "PGPORT": str(s["PORT"] or 5432), "PGUSER": s["USER"],
            "PGPASSWORD": s["PASSWORD"] or ""}


def run(*cmd, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def table_counts(name: str) -> dict[str, int]:
    """Rows of every table of the database, straight from PostgreSQL (also tables no model names)."""
    query = ("SELECT string_agg(format('SELECT %L, count(*) FROM %I.%I', tablename, schemaname, tablename), "
             "' UNION ALL ') FROM pg_tables WHERE schemaname = 'public'")
    union = run("psql", "-XAtqd", name, "-c", query, env=pg_env()).stdout.strip()
    out = run("psql", "-XAtqd", name, "-F", "\t", "-c", union, env=pg_env())
    assert out.returncode == 0, out.stderr
    return {table: int(n) for table, n in (line.split("\t") for line in out.stdout.splitlines())}


@pytest.fixture
def fresh_database():
    """A brand-new, empty database on the suite's server, dropped at the end."""
    name = f"{connection.settings_dict['NAME']}_restored_{uuid.uuid4().hex[:8]}"
    created = run("createdb", name, env=pg_env())
    assert created.returncode == 0, created.stderr
    yield name
    dropped = run("dropdb", "--if-exists", "--force", name, env=pg_env())
    assert dropped.returncode == 0, dropped.stderr


@pytest.fixture
def small_desk(org, settings, tmp_path):
    """A small desk that has worked: requests up and down the levels with comments and an attachment,
    alert mail into incidents (one acknowledged, one quarantined mail), SMS, reports, a session."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.OPSDESK_SMS_GROUP_WAIT = 0
    p = org.people
    SlaPolicy.objects.create(name="fault", request_type="fault_report", first_response_minutes=30,
                             resolution_minutes=240)
    first = file_fault_report(org, subject="柜员存款交易报错 8001")
    act(first, "escalate", p["county"], comment="县中心处理不了")
    act(first, "escalate", p["city"], comment="上送省中心")
    act(first, "dispatch", p["dispatcher"], group=org.groups[0])
    ticket_services.request_comment_add(request=first, author=p["member"], body="正在排查核心日志")
    attachment = ticket_services.request_attachment_add(
        request=first, uploader=p["teller"], upload=SimpleUploadedFile("error.log", b"E1021 account frozen\n"))
    second = file_fault_report(org, teller=p["teller_other"], subject="网点打印机故障")
    act(second, "escalate", p["county_other"], comment="上送")
    for request in (first, second):
        sla_check_request(request_id=request.pk)
    handled = alert_services.ingest_messages(items=[
        alert_services.Inbound(raw=raw, origin="upload")
        for raw in (nagios_mail("szhxdb01", "Disk /oradata"), nagios_mail("szhxdb02", "Oracle listener"),
                    nagios_mail("szhxdb01", "Disk /oradata", state="OK", kind="RECOVERY"), garbled_mail())])
    assert handled[3].outcome == "quarantined"
    MessageAttachment.objects.create(message=handled[1].row, filename="alert.log", content_type="text/plain", size=12,
                                     data=b"ORA-12541 TNS")
    incident = handled[1].row.alerts.get().incident
    alert_services.incident_acknowledge(actor=p["operator"], incident_pk=incident.pk, comment="已通知DBA")
    return {"teller": p["teller"].username, "operator": p["operator"].username, "request": first.pk,
            "subject": first.subject, "attachment": attachment.pk, "incident": incident.pk, "host": incident.host}


@pytest.mark.django_db(transaction=True)
def test_backup_and_restore_into_a_fresh_database_gives_the_same_desk(small_desk, client, settings, tmp_path,
                                                                       fresh_database):
    client.force_login(User.objects.get(username=small_desk["teller"]))  # a live session is backed up too
    source = connection.settings_dict["NAME"]
    source_counts = {m._meta.label: m._base_manager.count() for m in apps.get_models(include_auto_created=True)
                     if not m._meta.proxy and m._meta.managed}
    source_tables = table_counts(source)
    env = {**os.environ, "DATABASE_URL": database_url(source), "OPSDESK_MEDIA_ROOT": str(settings.MEDIA_ROOT),
           "PYTHON": sys.executable}
    env.pop("CELERY_BROKER_URL", None)

    backup = run("bash", BACKUP, tmp_path / "backups", env=env)
    assert backup.returncode == 0, backup.stderr
    directory = Path(backup.stdout.strip().splitlines()[-1].split()[1])
    assert directory.parent == tmp_path / "backups" and directory.name.startswith("opsdesk-")
    assert {f.name for f in directory.iterdir()} == {"database.dump", "media.tar.gz", "SHA256SUMS", "INFO"}

    restored_env = {**env, "DATABASE_URL": database_url(fresh_database),
                    "OPSDESK_MEDIA_ROOT": str(tmp_path / "restored-media")}
    restore = run("bash", RESTORE, directory, database_url(fresh_database), env=restored_env)
    assert restore.returncode == 0, restore.stderr
    assert "check: migrations applied, system check passed" in restore.stdout
    restored_tables = table_counts(fresh_database)  # before the desk below writes its own session

    desk = run(sys.executable, "manage.py", "shell", "-c", RESTORED_DESK,
               env={**restored_env, "RESTORED_DESK_ARGS": json.dumps(small_desk)})
    assert desk.returncode == 0, desk.stderr
    restored = json.loads(desk.stdout.strip().splitlines()[-1])

    print(f"\nbackup {directory.name}: " + ", ".join(f"{f.name} {f.stat().st_size} B" for f in sorted(directory.iterdir())))
    print(f"{'model':42} {'source':>7} {'restored':>8}")
    for label in sorted(source_counts):
        print(f"{label:42} {source_counts[label]:>7} {restored['counts'].get(label, '—'):>8}")
    print(f"{len(source_counts)} models, {sum(source_counts.values())} rows; "
          f"{len(source_tables)} tables, {sum(source_tables.values())} rows")

    assert restored["counts"] == source_counts
    assert restored_tables == source_tables
    # Something of every kind was there to be restored.
    for label in ("tickets.ServiceRequest", "tickets.RequestEvent", "tickets.Comment", "tickets.Attachment",
                  "alerts.IngestedMessage", "alerts.Alert", "alerts.Incident", "alerts.IncidentEvent",
                  "notifications.Notification", "notifications.SlaClock", "sessions.Session", "org.User"):
        assert source_counts[label] > 0, label
    assert restored["pages"] == {"request": [200, True], "attachment": [200, "E1021 account frozen\n"],
                                 "comment": [302, 1], "incident": [200, True]}


def test_backup_without_a_database_url_is_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    assert_one_clear_line(run("bash", BACKUP, tmp_path, env=env), "DATABASE_URL")
    assert not any(tmp_path.iterdir())


@pytest.mark.django_db
def test_a_failing_pg_dump_is_one_line_and_leaves_no_half_backup(tmp_path):
    env = {**os.environ, "DATABASE_URL": database_url(f"missing_{uuid.uuid4().hex[:8]}")}
    result = run("bash", BACKUP, tmp_path, env=env)
    assert_one_clear_line(result, "DATABASE_URL")
    assert "pg_dump" in result.stderr and "does not exist" in result.stderr
    assert not any(tmp_path.iterdir())


@pytest.mark.django_db(transaction=True)
def test_restore_refuses_a_database_that_is_not_empty(org, tmp_path):
    live = connection.settings_dict["NAME"]
    env = {**os.environ, "DATABASE_URL": database_url(live), "OPSDESK_MEDIA_ROOT": str(tmp_path / "media")}
    env.pop("CELERY_BROKER_URL", None)
    backup = run("bash", BACKUP, tmp_path / "backups", env=env)
    assert backup.returncode == 0, backup.stderr
    directory = backup.stdout.strip().splitlines()[-1].split()[1]
    before = table_counts(live)
    # The live desk's own database given as the target by mistake: restore.sh must not touch it.
    result = run("bash", RESTORE, directory, database_url(live), env=env)
    assert_one_clear_line(result, "not empty")
    assert table_counts(live) == before

"""The Celery application. Queue routing and periodic schedules live here, in one place."""

from __future__ import annotations

import os

from celery import Celery
from celery.schedules import crontab
from celery.signals import task_prerun
from django.conf import settings

from opsdesk.preflight import exit_on_configuration_error

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsdesk.settings")

app = Celery("opsdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")


@app.on_configure.connect
def _load_django_settings(**kwargs) -> None:
    # Celery reads Django's settings the first time it needs a value (a worker or beat parsing its
    # options): a bad setting, such as no DJANGO_SECRET_KEY with a DATABASE_URL, then stops the
    # process in one line naming it instead of a traceback.
    with exit_on_configuration_error():
        settings.SECRET_KEY  # noqa: B018  (touching one setting loads them all)


# Celery's Django fix-up closes the database connection after every task unless told to reuse it: a new
# PostgreSQL backend (fork, authentication, time zone) per wake-up was a good part of the database's CPU.
# Reused for 2 x 500 tasks; before each task Django's own check drops one that is too old or broken (a
# restarted database), as it does for each web request.
app.conf.CELERY_DB_REUSE_MAX = 500


@task_prerun.connect
def _check_database_connections(task=None, **kwargs) -> None:
    if task is not None and getattr(task.request, "is_eager", False):
        return  # in-process: the caller's connection and transaction, not ours to close
    from django.db import close_old_connections

    close_old_connections()


# Which queue each family of tasks uses: notifications must not wait behind bulk work.
app.conf.task_routes = {
    "notifications.tasks.*": {"queue": "notifications"},
    # Names of before the apps moved out of `opsdesk/` (aliases, one release): same queues.
    "opsdesk.notifications.tasks.check_sla_clocks": {"queue": "default"},
    "opsdesk.notifications.tasks.advance_escalations": {"queue": "alerts"},
    "opsdesk.notifications.tasks.*": {"queue": "notifications"},
    "alerts.tasks.*": {"queue": "alerts"},
    "tickets.tasks.*": {"queue": "default"},
    "reports.tasks.*": {"queue": "default"},
}
app.conf.task_default_queue = "default"
app.conf.beat_schedule = {
    "notifications-dispatch-due": {"task": "notifications.tasks.dispatch_due_notifications", "schedule": 30.0},
    "alerts-escalations": {"task": "alerts.tasks.advance_escalations", "schedule": 30.0},
    "tickets-sla": {"task": "tickets.tasks.check_sla_clocks", "schedule": 60.0},
    "reports-fold-tallies": {"task": "reports.tasks.fold_tallies", "schedule": 30.0},
    "tickets-auto-close-answered": {"task": "tickets.tasks.auto_close_answered_requests", "schedule": 3600.0},
    # Retention (OPSDESK_RETENTION_*): once a day in the quiet hours (CELERY_TIMEZONE), one kind after
    # another, on the default queue so a long first purge never delays an SMS or an escalation.
    "alerts-purge-raw-mail": {"task": "alerts.tasks.purge_raw_mail", "schedule": crontab(hour=3, minute=10),
                              "options": {"queue": "default"}},
    "notifications-purge-delivered": {"task": "notifications.tasks.purge_delivered_notifications",
                                      "schedule": crontab(hour=3, minute=20), "options": {"queue": "default"}},
    "sessions-purge-expired": {"task": "reports.tasks.purge_expired_sessions", "schedule": crontab(hour=3, minute=30),
                               "options": {"queue": "default"}},
}
# Only assignments above: reading app.conf here would load Django settings at import time, and a
# bad DATABASE_URL would then surface as a traceback instead of manage.py's one-line error.

app.autodiscover_tasks()

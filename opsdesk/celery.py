"""The Celery application. Queue routing and periodic schedules live here, in one place."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsdesk.settings")

app = Celery("opsdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")

# Which queue each family of tasks uses: notifications must not wait behind bulk work.
app.conf.task_routes = {
    "notifications.tasks.*": {"queue": "notifications"},
    # Names of before the apps moved out of `opsdesk/` (aliases, one release): same queues.
    "opsdesk.notifications.tasks.check_sla_clocks": {"queue": "default"},
    "opsdesk.notifications.tasks.advance_escalations": {"queue": "alerts"},
    "opsdesk.notifications.tasks.*": {"queue": "notifications"},
    "alerts.tasks.*": {"queue": "alerts"},
    "tickets.tasks.*": {"queue": "default"},
}
app.conf.task_default_queue = "default"
app.conf.beat_schedule = {
    "notifications-dispatch-due": {"task": "notifications.tasks.dispatch_due_notifications", "schedule": 30.0},
    "alerts-escalations": {"task": "alerts.tasks.advance_escalations", "schedule": 30.0},
    "tickets-sla": {"task": "tickets.tasks.check_sla_clocks", "schedule": 60.0},
    "tickets-auto-close-answered": {"task": "tickets.tasks.auto_close_answered_requests", "schedule": 3600.0},
}
# Only assignments above: reading app.conf here would load Django settings at import time, and a
# bad DATABASE_URL would then surface as a traceback instead of manage.py's one-line error.

app.autodiscover_tasks()

"""The Celery application. Queue routing and periodic schedules live here, in one place."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsdesk.settings")

app = Celery("opsdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")

# Which queue each family of tasks uses: notifications must not wait behind bulk work.
app.conf.task_routes = {
    "opsdesk.notifications.tasks.*": {"queue": "notifications"},
    "alerts.tasks.*": {"queue": "alerts"},
    "tickets.tasks.*": {"queue": "default"},
    "workflow.tasks.*": {"queue": "default"},
}
app.conf.task_default_queue = "default"
app.conf.beat_schedule = {}

app.autodiscover_tasks()

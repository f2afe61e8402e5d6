"""Task names are what the broker holds: moving a module must not strand queued messages."""

from __future__ import annotations

import pytest

from opsdesk.celery import app

# Every task name in use, and the queue its messages go to.
CURRENT = {
    "notifications.tasks.deliver_due": "notifications",
    "notifications.tasks.deliver_notification": "notifications",
    "notifications.tasks.fan_out_notice": "notifications",
    "notifications.tasks.dispatch_due_notifications": "notifications",
    "tickets.tasks.check_sla_clocks": "default",
    "tickets.tasks.auto_close_answered_requests": "default",
    "alerts.tasks.advance_escalations": "alerts",
    "alerts.tasks.reprocess_message": "alerts",
    # Retention: beat sends them to "default" (options of the schedule entry); a manual call routes by name.
    "alerts.tasks.purge_raw_mail": "alerts",
    "notifications.tasks.purge_delivered_notifications": "notifications",
    "reports.tasks.purge_expired_sessions": "default",
    "reports.tasks.fold_tallies": "default",
}
# Names of before notifications, SLA and escalation left `opsdesk/` (kept one release).
OLD = {
    "opsdesk.notifications.tasks.deliver_notification": "notifications",
    "opsdesk.notifications.tasks.fan_out_notice": "notifications",
    "opsdesk.notifications.tasks.dispatch_due_notifications": "notifications",
    "opsdesk.notifications.tasks.check_sla_clocks": "default",
    "opsdesk.notifications.tasks.advance_escalations": "alerts",
}


@pytest.fixture(scope="module")
def registered():
    app.loader.import_default_modules()  # what a worker does at start: autodiscover every app's tasks
    return set(app.tasks)


@pytest.mark.parametrize(("name", "queue"), sorted({**CURRENT, **OLD}.items()))
def test_each_task_name_is_registered_and_routed_to_its_queue(registered, name, queue):
    assert name in registered
    route = app.amqp.router.route({}, name)
    assert route["queue"].name == queue


def test_the_beat_schedules_only_current_names(registered):
    scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert scheduled <= set(CURRENT) and scheduled <= registered


def test_an_old_name_runs_the_same_work_as_the_new_one(db):
    # A message queued under the old name before the upgrade: the worker (which imports every
    # app's tasks module when it starts) runs it.
    app.loader.import_default_modules()
    assert app.tasks["opsdesk.notifications.tasks.dispatch_due_notifications"].apply().get() == 0

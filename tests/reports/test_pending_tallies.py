"""With workers running, a transition's counts are one pending row, folded into the statistics by a
worker after the commit: busy requests never wait on one another's counter rows, and the figures a
manager reads after the fold are the ones a rebuild from the audit trails gives."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Sum

from reports import services
from reports.models import CountyDaily, PendingTally, SystemDaily
from reports.services import tallies_fold
from tests.tickets.helpers import file_fault_report

pytestmark = pytest.mark.django_db


@pytest.fixture
def workers_running():
    """This process hands tasks to a broker instead of running them in-process."""
    from opsdesk.celery import app

    saved = app.conf.task_always_eager
    app.conf.task_always_eager = False
    woken = []
    original = services.wake_fold
    # The broker's part: recorded, the fold is run by the test.
    services.wake_fold = lambda countdown=0: woken.append(countdown) or True
    services._fold_asked_until = 0.0  # no fold asked for by an earlier test
    try:
        yield woken
    finally:
        services.wake_fold = original
        services._fold_asked_until = 0.0
        app.conf.task_always_eager = saved


def sent_today() -> int:
    return SystemDaily.objects.filter(grain="d").aggregate(n=Sum("sent"))["n"] or 0


def test_counts_wait_as_one_row_and_the_fold_adds_them_once(org, workers_running, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            file_fault_report(org)
            file_fault_report(org)
    assert sent_today() == 0  # not yet folded: nobody waited on the counter row
    assert PendingTally.objects.count() == 2
    assert workers_running == [services.FOLD_DELAY_SECONDS]  # one wake-up for the transaction, after its commit

    assert tallies_fold() == 2
    assert sent_today() == 2 and PendingTally.objects.count() == 0
    assert tallies_fold() == 0 and sent_today() == 2  # folding again adds nothing

    call_command("rebuild_report_summaries", "--check")  # the live figures equal a rebuild's


@pytest.mark.django_db(transaction=True)
def test_busy_transitions_share_one_fold_that_starts_after_all_of_them(org, workers_running):
    """At the peak every web process commits several transitions a second: the fold one asked for
    starts FOLD_DELAY_SECONDS later and counts them all; once it has started, the next commit asks again."""
    for _ in range(3):
        file_fault_report(org)  # each in a transaction of its own, committed
    assert workers_running == [services.FOLD_DELAY_SECONDS]  # three commits, one fold asked for
    assert PendingTally.objects.count() == 3

    services._fold_asked_until -= services.FOLD_DELAY_SECONDS  # that fold has started by now
    file_fault_report(org)
    assert workers_running == [services.FOLD_DELAY_SECONDS] * 2  # a later commit is not left to beat
    assert tallies_fold() == 4 and sent_today() == 4


def test_a_rebuild_drops_pending_counts_it_already_counted(org, workers_running, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            file_fault_report(org)
    call_command("rebuild_report_summaries")
    assert PendingTally.objects.count() == 0
    assert CountyDaily.objects.filter(grain="d").aggregate(n=Sum("sent"))["n"] == 1

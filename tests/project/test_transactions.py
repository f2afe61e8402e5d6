"""on_commit_once: work asked for by many steps of one transaction runs once, after the commit, and
never for a transaction that rolled back (a burst of hand-offs wakes SMS delivery once)."""

from __future__ import annotations

import pytest
from django.db import transaction

from opsdesk.transactions import on_commit_once

pytestmark = pytest.mark.django_db(transaction=True)


def test_asked_many_times_in_a_transaction_it_runs_once_after_the_commit():
    ran = []

    def wake():
        ran.append("wake")

    with transaction.atomic():
        for _ in range(50):
            on_commit_once(wake)
        assert ran == []  # not before the commit
    assert ran == ["wake"]


def test_a_rolled_back_savepoint_does_not_lose_a_later_request_and_a_rolled_back_transaction_runs_nothing():
    ran = []

    def wake():
        ran.append("wake")

    with transaction.atomic():
        try:
            with transaction.atomic():
                on_commit_once(wake)
                raise RuntimeError("this step failed")
        except RuntimeError:
            pass
        on_commit_once(wake)  # the savepoint took its callback with it: asked again, kept
    assert ran == ["wake"]
    with pytest.raises(RuntimeError), transaction.atomic():
        on_commit_once(wake)
        raise RuntimeError("the whole transaction failed")
    assert ran == ["wake"]


def test_outside_a_transaction_it_runs_now():
    ran = []
    on_commit_once(lambda: ran.append("now"))
    assert ran == ["now"]

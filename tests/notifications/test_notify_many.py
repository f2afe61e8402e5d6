"""notify_many(): a burst of events written together gives every person exactly the messages, holds
and digests that writing them one by one gives (rate limit, digest window, quiet hours), in one INSERT."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from notifications import conf
from notifications.models import Notification
from notifications.services import Message, notify, notify_many

pytestmark = pytest.mark.django_db


@pytest.fixture
def with_workers(settings, monkeypatch):
    """As with workers running (limits and digests apply; in-process mode sends everything at once)."""
    settings.OPSDESK_SMS_RATE_LIMIT = "2"
    settings.OPSDESK_SMS_RATE_WINDOW = "600"
    settings.OPSDESK_SMS_GROUP_WAIT = "10"
    settings.OPSDESK_SMS_QUIET_HOURS = ""
    monkeypatch.setattr(conf, "is_eager", lambda: False)
    monkeypatch.setattr("notifications.services.request_delivery", lambda countdown=0: None)


def burst(org, tag: str) -> list[Message]:
    p1, p2 = org.people["operator"], org.people["lead"]
    a, b = org.systems[0], org.systems[1]
    return [
        Message(event="incident.opened", key=f"{tag}:1", text="甲系统告警", about=a, people=[p1, p2]),
        Message(event="incident.alert", key=f"{tag}:2", text="甲系统又告警", about=a, people=[p1]),  # same object
        Message(event="incident.opened", key=f"{tag}:3", text="乙系统告警", about=b, people=[p1]),
        Message(event="incident.opened", key=f"{tag}:4", text="丙告警", people=[p1]),  # past the limit
        Message(event="incident.opened", key=f"{tag}:5", text="丁告警", people=[p1]),  # joins that digest
        Message(event="incident.opened", key=f"{tag}:6", text="紧急", people=[p1], urgent=True, digest=False),
    ]


def outcome(tag: str, now: dt.datetime) -> list[tuple]:
    """What each person will receive, and when, relative to the write (by event; merged rows are never
    sent, so their place in the table's order does not matter)."""
    rows = sorted(Notification.objects.filter(idempotency_key__startswith=f"{tag}:"), key=lambda r: r.idempotency_key)
    def rel(moment):
        return None if moment is None else round((moment - now).total_seconds())
    return [(r.idempotency_key.split(":", 1)[1], r.address, r.status, r.digest_group.split(":")[0], r.digest_count,
             r.merged_into.idempotency_key.split(":", 1)[1] if r.merged_into else None, rel(r.not_before), r.text)
            for r in rows]


def test_a_burst_written_together_is_what_one_by_one_gives(org, with_workers):
    from django.utils import timezone

    with transaction.atomic():
        started = timezone.now()
        for message in burst(org, "one"):
            notify(**vars(message))
    one_by_one = outcome("one", started)
    Notification.objects.all().delete()

    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        started = timezone.now()
        created = notify_many(burst(org, "all"))
    together = outcome("all", started)

    assert together == one_by_one
    assert len(created) == 7
    # What the people get: operator: 甲 (with 又告警 merged into it after 10 s), 乙 after 10 s, the flood
    # digest of 丙+丁 when the window allows, 紧急 at once; the lead: 甲.
    statuses = [(key, status, merged) for key, _a, status, _g, _c, merged, _nb, _t in together]
    assert ("2:" + str(org.people["operator"].pk), "merged", "1:" + str(org.people["operator"].pk)) in statuses
    assert ("5:" + str(org.people["operator"].pk), "merged", "4:" + str(org.people["operator"].pk)) in statuses
    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith('INSERT INTO "notifications_')]
    assert len(inserts) == 2  # the rows, then those joining a digest opened in the same burst


def test_a_repeated_burst_adds_nothing(org, with_workers):
    with transaction.atomic():
        first = notify_many(burst(org, "rep"))
    with transaction.atomic():
        again = notify_many(burst(org, "rep"))
    assert len(first) == 7 and again == []
    assert Notification.objects.count() == 7


def test_a_burst_of_hand_offs_is_fanned_out_by_one_task(org, with_workers):
    from notifications.models import PendingNotice
    from notifications.roster import recipients_for_unit
    from notifications.services import notice_fan_out, notify_later

    county, city = org.people["county"], org.people["city"]
    with transaction.atomic():  # three hand-offs committed together, as a busy county centre makes them
        notify_later(event="request.escalate", key="h:1", text="流转1", people=[county], about=org.systems[0])
        notify_later(event="request.escalate", key="h:2", text="流转2", unit=city.unit)
        notify_later(event="request.escalate", key="h:3", text="流转3", people=[county, city])
    first, second, third = PendingNotice.objects.order_by("pk")

    written = notice_fan_out(notice_id=second.pk)  # whichever task runs first takes the waiting ones too

    on_duty = recipients_for_unit(city.unit)
    assert written == 1 + len(on_duty) + 2
    assert not PendingNotice.objects.exists()
    assert notice_fan_out(notice_id=first.pk) == notice_fan_out(notice_id=third.pk) == 0
    texts = sorted(Notification.objects.values_list("idempotency_key", "text"))
    assert texts == sorted([(f"h:1:{county.pk}", "流转1"), *[(f"h:2:{p.pk}", "流转2") for p in on_duty],
                            (f"h:3:{county.pk}", "流转3"), (f"h:3:{city.pk}", "流转3")])
    assert Notification.objects.get(idempotency_key=f"h:1:{county.pk}").about == org.systems[0]


def test_an_unreadable_notice_does_not_take_the_burst_down_with_it(org, with_workers):
    from notifications.models import PendingNotice
    from notifications.services import notice_fan_out, notify_later

    county = org.people["county"]
    with transaction.atomic():
        notify_later(event="request.escalate", key="b:1", text="流转1", people=[county])
        broken = PendingNotice.objects.create(event="request.escalate", key="b:2", arguments={"text": "缺参数"})
        notify_later(event="request.escalate", key="b:3", text="流转3", people=[county])
    first = PendingNotice.objects.exclude(pk=broken.pk).order_by("pk").first()

    assert notice_fan_out(notice_id=first.pk) == 2
    assert list(PendingNotice.objects.values_list("pk", flat=True)) == [broken.pk]  # kept for its own task
    assert sorted(Notification.objects.values_list("text", flat=True)) == ["流转1", "流转3"]
    with pytest.raises(KeyError):
        notice_fan_out(notice_id=broken.pk)  # its own task reports it (and the relay keeps offering it)

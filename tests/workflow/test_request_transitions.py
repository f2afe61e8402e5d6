"""Every transition of the service-request state machine and its guards (state, role, unit, input)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from notifications.models import Notification
from opsdesk.org.choices import Role
from tests.factories import make_person
from tests.tickets.helpers import ADJUSTMENT_DATA, act, file_fault_report, file_request, fresh
from tickets.models import AuditTrailIsAppendOnly, RequestAccess, RequestEvent, ServiceRequest
from tickets.tasks import auto_close_answered_requests
from workflow.engine import (
    TransitionConflict,
    TransitionForbidden,
    TransitionNotAllowed,
    available_transitions,
)

pytestmark = pytest.mark.django_db


def route(request) -> list[tuple[str, str, str, str]]:
    return [(e.name, e.from_unit.code if e.from_unit else "", e.to_state, e.to_unit.code)
            for e in RequestEvent.objects.filter(request=request).select_related("from_unit", "to_unit")
            .order_by("version")]


def notified(request, version) -> set[str]:
    return set(Notification.objects.filter(idempotency_key__startswith=f"request:{request.pk}:v{version}:")
               .values_list("recipient__username", flat=True))


def to_province(org):
    p = org.people
    r = file_fault_report(org)
    act(r, "escalate", p["county"], "县中心无法处理")
    return act(r, "escalate", p["city"], "地市无法处理")


def test_the_full_route_up_and_back_down(org):
    p = org.people
    r = file_fault_report(org)
    assert (r.state, r.holder_unit.code, r.level, r.version) == ("at_county", "K1", "county", 1)
    assert notified(r, 1) == {"county1"}
    r = act(r, "escalate", p["county"], "县中心无法处理")
    r = act(r, "escalate", p["city"], "地市无法处理")
    assert (r.state, r.holder_unit.code) == ("at_province", "OPS")
    assert notified(r, r.version) == {"dispatcher", "operator"}  # the receiving unit's people with a mobile
    r = act(r, "dispatch", p["dispatcher"], group=org.groups[0])
    r = act(r, "transfer", p["member"], "是信贷系统的问题", group=org.groups[1])
    r = act(r, "complete", p["member_other"], "已修复参数，请重试")
    assert (r.state, r.holder_unit.code, r.answer_unit.code) == ("in_review", "OPS", "G2")
    r = act(r, "approve", p["dispatcher"], "同意")
    r = act(r, "pass_down", p["city"], "地市补充：已通知各县")
    r = act(r, "pass_down", p["county"])
    assert (r.state, r.holder_unit.code, r.assignee) == ("answered", "O1", p["teller"])
    assert notified(r, r.version) == {"teller1"}  # the answer goes to the teller personally
    r = act(r, "confirm", p["teller"], "解决了", rating=5)
    assert (r.state, r.rating, r.version) == ("closed", 5, 10)
    assert route(r) == [
        ("submit", "O1", "at_county", "K1"), ("escalate", "K1", "at_city", "C1"),
        ("escalate", "C1", "at_province", "OPS"), ("dispatch", "OPS", "at_group", "G1"),
        ("transfer", "G1", "at_group", "G2"), ("complete", "G2", "in_review", "OPS"),
        ("approve", "OPS", "answer_at_city", "C1"), ("pass_down", "C1", "answer_at_county", "K1"),
        ("pass_down", "K1", "answered", "O1"), ("confirm", "O1", "closed", "O1"),
    ]
    holders = set(RequestAccess.objects.filter(request=r).values_list("unit__code", flat=True))
    assert holders == {"O1", "K1", "C1", "OPS", "G1", "G2"}


def test_county_answers_directly_and_teller_rejects_back_to_county(org):
    p = org.people
    r = file_fault_report(org)
    r = act(r, "answer", p["county"], "请重启终端")
    assert (r.state, r.holder_unit.code, r.answer_unit.code) == ("answered", "O1", "K1")
    r = act(r, "reject", p["teller"], "重启后仍然报错")
    assert (r.state, r.holder_unit.code, r.answered_at) == ("at_county", "K1", None)


def test_city_answer_goes_through_the_county_and_a_rejection_returns_to_the_city(org):
    p = org.people
    r = file_fault_report(org)
    act(r, "escalate", p["county"], "需要地市")
    r = act(r, "answer", p["city"], "参数已调整")
    assert (r.state, r.holder_unit.code) == ("answer_at_county", "K1")
    with pytest.raises(TransitionNotAllowed):
        act(r, "confirm", p["teller"], rating=4)  # not yet: the county passes it on first
    r = act(r, "pass_down", p["county"], "县补充说明")
    r = act(r, "reject", p["teller"], "还是不行")
    assert (r.state, r.holder_unit.code) == ("at_city", "C1")


def test_province_answers_directly_or_sends_back_down(org):
    p = org.people
    r = to_province(org)
    r = act(r, "answer", p["dispatcher"], "这是业务规定")
    assert (r.state, r.holder_unit.code) == ("answer_at_city", "C1")
    act(r, "pass_down", p["city"])
    r = act(r, "pass_down", p["county"])
    r = act(r, "reject", p["teller"], "不认可")
    assert (r.state, r.holder_unit.code) == ("at_province", "OPS")
    r = act(r, "send_back", p["dispatcher"], "应由地市处理")
    assert (r.state, r.holder_unit.code) == ("at_city", "C1")


def test_rework_and_rejection_go_back_to_the_group_that_answered(org):
    p = org.people
    r = to_province(org)
    act(r, "dispatch", p["dispatcher"], group=org.groups[0])
    act(r, "complete", p["member"], "处理完毕")
    r = act(r, "return_for_rework", p["dispatcher"], "答复不完整")
    assert (r.state, r.holder_unit.code) == ("at_group", "G1")
    act(r, "complete", p["lead"], "补充完整答复")
    act(r, "approve", p["dispatcher"])
    act(r, "pass_down", p["city"])
    act(r, "pass_down", p["county"])
    r = act(r, "reject", p["teller"], "没有解决")
    assert (r.state, r.holder_unit.code) == ("at_group", "G1")


@pytest.mark.parametrize("level", ["county", "city", "group"])
def test_asking_the_teller_for_information_waits_and_comes_back(org, level):
    p = org.people
    r = file_fault_report(org)
    asker, unit = p["county"], "K1"
    if level in ("city", "group"):
        r = act(r, "escalate", p["county"], "上送")
        asker, unit = p["city"], "C1"
    if level == "group":
        act(r, "escalate", p["city"], "上送")
        r = act(r, "dispatch", p["dispatcher"], group=org.groups[0])
        asker, unit = p["member"], "G1"
    before = r.state
    r = act(r, "ask_info", asker, "请提供截图")
    assert (r.state, r.holder_unit.code, r.assignee) == ("info_requested", "O1", p["teller"])
    with pytest.raises(TransitionForbidden):
        act(r, "provide_info", p["teller_other"], "不是我的")
    r = act(r, "provide_info", p["teller"], "截图已上传")
    assert (r.state, r.holder_unit.code, r.waiting_state) == (before, unit, "")


def test_dual_control_needs_a_second_county_person(org):
    p = org.people
    second = make_person(org.counties[0], Role.COUNTY_SUPPORT, username="county1b")
    r = file_request(p["teller"], "data_adjustment", subject="解冻账户", system=org.systems[0],
                     data=dict(ADJUSTMENT_DATA))
    with pytest.raises(TransitionNotAllowed) as exc:
        act(r, "escalate", p["county"], "需要省中心调整")
    assert "submit_for_approval" in exc.value.allowed and "escalate" not in exc.value.allowed
    r = act(r, "submit_for_approval", p["county"], "需要省中心调整")
    assert (r.state, r.prepared_by) == ("awaiting_approval", p["county"])
    assert notified(r, r.version) == {"county1b"}  # the other county person, not the preparer
    with pytest.raises(TransitionForbidden):
        act(r, "approve_escalation", p["county"])  # the preparer cannot approve their own
    r = act(r, "decline_escalation", second, "金额不对")
    assert r.state == "at_county"
    act(r, "submit_for_approval", p["county"], "已更正")
    r = act(r, "approve_escalation", second, "复核无误")
    assert (r.state, r.holder_unit.code, r.approved_by) == ("at_city", "C1", second)


def test_wrong_role_wrong_unit_wrong_state(org):
    p = org.people
    r = file_fault_report(org)
    for who in ("county_other", "teller", "city", "dispatcher", "member", "manager"):
        with pytest.raises(TransitionForbidden) as exc:
            act(r, "escalate", p[who], "越权")
        assert exc.value.allowed == available_transitions(fresh(r), p[who])
    with pytest.raises(TransitionNotAllowed) as exc:
        act(r, "confirm", p["teller"], rating=5)
    assert exc.value.state == "at_county"
    with pytest.raises(TransitionNotAllowed):
        act(r, "no_such_action", p["county"])
    assert fresh(r).version == 1
    assert RequestEvent.objects.filter(request=r).count() == 1


def test_available_transitions_follow_role_and_unit(org):
    p = org.people
    r = file_fault_report(org)
    assert available_transitions(r, p["county"]) == ["answer", "ask_info", "claim", "escalate"]
    assert available_transitions(r, p["county_other"]) == []
    assert available_transitions(r, p["teller"]) == ["withdraw"]  # filed by mistake: nobody took it yet
    assert available_transitions(r, p["teller_other"]) == []


def test_a_stale_version_is_a_conflict_and_changes_nothing(org):
    p = org.people
    r = file_fault_report(org)
    act(r, "claim", p["county"])
    with pytest.raises(TransitionConflict) as exc:
        from tickets.services import request_transition

        request_transition(request_id=r.pk, name="escalate", actor=p["county"], version=1, comment="晚了一步")
    assert exc.value.allowed == ["answer", "ask_info", "escalate"]
    assert (fresh(r).state, fresh(r).version) == ("at_county", 2)


@pytest.mark.parametrize("name, kwargs", [
    ("escalate", {}), ("answer", {}), ("ask_info", {}), ("escalate", {"comment": "   "}),
])
def test_missing_reason_is_refused_and_nothing_is_written(org, name, kwargs):
    r = file_fault_report(org)
    with pytest.raises(ValidationError):
        act(r, name, org.people["county"], **kwargs)
    assert (fresh(r).state, fresh(r).version) == ("at_county", 1)
    assert RequestEvent.objects.filter(request=r).count() == 1


def test_dispatch_and_transfer_need_a_real_other_group(org):
    p = org.people
    r = to_province(org)
    for group in (None, org.counties[0].pk, "x"):
        with pytest.raises(ValidationError):
            act(r, "dispatch", p["dispatcher"], group=group)
    r = act(r, "dispatch", p["dispatcher"], group=org.groups[0].pk)
    with pytest.raises(ValidationError):
        act(r, "transfer", p["member"], "同组", group=org.groups[0])
    with pytest.raises(ValidationError):
        act(r, "transfer", p["member"], "", group=org.groups[1])
    assert fresh(r).holder_unit == org.groups[0]


@pytest.mark.parametrize("rating", [None, 0, 6, "x"])
def test_confirm_needs_a_rating_from_one_to_five(org, rating):
    r = file_fault_report(org)
    act(r, "answer", org.people["county"], "答复")
    with pytest.raises(ValidationError):
        act(r, "confirm", org.people["teller"], rating=rating)
    assert fresh(r).state == "answered"


def test_claim_assigns_and_the_next_hand_off_clears_it(org):
    p = org.people
    r = file_fault_report(org)
    r = act(r, "claim", p["county"])
    assert r.assignee == p["county"]
    with pytest.raises(TransitionForbidden):
        act(r, "claim", p["county"])  # already theirs
    r = act(r, "escalate", p["county"], "上送")
    assert r.assignee is None and r.holder_unit.code == "C1"


def test_unconfirmed_answers_close_by_themselves(org, settings):
    settings.OPSDESK_AUTO_CLOSE_DAYS = 3
    p = org.people
    old, recent = file_fault_report(org), file_fault_report(org)
    act(old, "answer", p["county"], "答复")
    act(recent, "answer", p["county"], "答复")
    ServiceRequest.objects.filter(pk=old.pk).update(answered_at=timezone.now() - timedelta(days=4))
    with pytest.raises(TransitionForbidden):
        act(old, "auto_close", p["teller"])  # no person may fire it
    assert auto_close_answered_requests() == 1
    assert fresh(old).state == "closed" and fresh(recent).state == "answered"
    last = RequestEvent.objects.filter(request=old).order_by("-version").first()
    assert (last.name, last.actor) == ("auto_close", None)
    assert auto_close_answered_requests() == 0  # re-running changes nothing


def test_the_audit_trail_cannot_be_changed(org):
    r = file_fault_report(org)
    event = RequestEvent.objects.get(request=r)
    event.comment = "篡改"
    with pytest.raises(AuditTrailIsAppendOnly):
        event.save()
    with pytest.raises(AuditTrailIsAppendOnly):
        event.delete()
    with pytest.raises(AuditTrailIsAppendOnly):
        RequestEvent.objects.filter(request=r).update(comment="篡改")
    with pytest.raises(AuditTrailIsAppendOnly):
        RequestEvent.objects.filter(request=r).delete()
    assert RequestEvent.objects.get(request=r).comment == ""


def test_state_cannot_be_set_by_hand(org):
    r = file_fault_report(org)
    with pytest.raises(AttributeError):
        r.state = "closed"

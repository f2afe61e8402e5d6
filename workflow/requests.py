"""The service-request state machine: states, transitions, their conditions and who may fire them.

One place. `tickets.models.ServiceRequest` inherits `RequestWorkflow`; every transition is fired
through `workflow.engine.perform()`, which locks, checks version/state/permission, calls the
method below, records the audit row and publishes the transition (`tickets.handlers`: access row,
SMS; `reports.handlers`: statistics).

The route (DOMAIN.md, "Service requests"):

    teller submits ─► at_county ─escalate─► at_city ─escalate─► at_province ─dispatch─► at_group
                        │  ▲                  │                   │  │ send_back          │ transfer
                        │  └ decline ─ awaiting_approval (dual control for data adjustments)
                        │                     │                   │                    complete
                        answer                answer              answer                 ▼
                        │                     ▼                   ▼               in_review ─approve─┐
                        │             answer_at_county ◄pass_down answer_at_city ◄───────────────────┘
                        ▼                     │
                     answered ◄──pass_down────┘
                        │ confirm ─► closed          reject ─► back to the level that answered
                        │ auto_close (after N days) ─► closed

The provincial centre's own people (an operator or a support group filing from an alert incident)
file on behalf of the centre: their request starts `at_province` with the operations department (there is no county or
city below it), and its answer comes straight back to them (`answer`/`approve` ─► answered) for them
to confirm or reject, as a teller would (`filed_at_province`).

A teller may withdraw a request filed by mistake while it is still at the county and nobody has
taken it (`withdraw` ─► closed, counted nowhere in the statistics).

Any support level (county, city, group) may ask the teller for information: the request waits in
`info_requested` at the outlet and comes back to the same level when the teller answers.

Permission is "role + holding unit": e.g. a county answer needs the county_support role and
`user.unit == request.holder_unit`. Transitions that take input name it in TRANSITION_INPUTS, so
the API and the pages ask for the same things the methods check.

Each transition also declares what it counts as in the statistics (`custom=counts(...)`, see
`ReportEffect`); `reports.services` counts by `transition_effects(name)`, not by transition names.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import GET_STATE, FSMField, FSMModelMixin, transition

from opsdesk.org.choices import Role, UnitKind
from opsdesk.org.models import Unit
from workflow.effects import counts, declared_effects

__all__ = [
    "SUBMIT",
    "RequestState",
    "Rating",
    "ReportEffect",
    "transition_effects",
    "OPEN_STATES",
    "RequestWorkflow",
    "TRANSITION_LABELS",
    "TRANSITION_INPUTS",
    "TransitionInput",
]


class RequestState(models.TextChoices):
    AT_COUNTY = "at_county", _("At county support centre")
    AWAITING_APPROVAL = "awaiting_approval", _("Awaiting second approval")
    AT_CITY = "at_city", _("At city support centre")
    AT_PROVINCE = "at_province", _("At provincial operations")
    AT_GROUP = "at_group", _("With support group")
    IN_REVIEW = "in_review", _("Provincial review")
    ANSWER_AT_CITY = "answer_at_city", _("Answer passing down: city")
    ANSWER_AT_COUNTY = "answer_at_county", _("Answer passing down: county")
    INFO_REQUESTED = "info_requested", _("Waiting for information from the teller")
    ANSWERED = "answered", _("Answered, waiting for confirmation")
    CLOSED = "closed", _("Closed")


class Rating(models.IntegerChoices):
    """The teller's satisfaction when confirming an answer: stored as 1–5, always shown in words."""

    VERY_SATISFIED = 5, _("Very satisfied")
    SATISFIED = 4, _("Satisfied")
    NEUTRAL = 3, _("Neutral")
    DISSATISFIED = 2, _("Dissatisfied")
    VERY_DISSATISFIED = 1, _("Very dissatisfied")


# The filing of a request: not a transition (the request is created in AT_COUNTY) but recorded and
# published like one, with an empty source state (`workflow.engine.record_creation`).
SUBMIT = "submit"


class ReportEffect(models.TextChoices):
    """What a step means for the statistics (`reports.services` counts by these). The level a
    count goes to is the kind of unit the request leaves (or, for a return, reaches)."""

    FILED = "filed"  # a teller filed it: sent, and received at the county
    ESCALATED = "escalated"  # sent up from the level holding it to the next one
    ANSWERED_HERE = "answered_here"  # the level holding it answered
    ANSWER_APPROVED = "answer_approved"  # the provincial review approved a group's answer (answered there)
    GIVES_ANSWER = "gives_answer"  # wrote the answer the teller gets: the last one is credited on closing
    SENT_BACK = "sent_back"  # the province sent it back down (returned to the level it reaches)
    RETURNED_FOR_REWORK = "returned_for_rework"  # the review returned the answer to the group
    ANSWER_REJECTED = "answer_rejected"  # the teller rejected the answer: back to the level that gave it
    TRANSFERRED = "transferred"  # passed sideways to another support group
    ASKS_TELLER = "asks_teller"  # the holding period pauses for the teller's information (not handled)
    CLOSED = "closed"  # closed, with the teller's rating if there is one


E = ReportEffect
# The filing is not a transition; it counts like one.
CREATION_EFFECTS = {SUBMIT: frozenset({E.FILED})}

S = RequestState
OPEN_STATES = tuple(s for s in S.values if s != S.CLOSED)
# States in which a support unit works on the request (it may ask the teller for information).
WORKING_STATES = (S.AT_COUNTY, S.AT_CITY, S.AT_PROVINCE, S.AT_GROUP)

TRANSITION_LABELS: dict[str, Any] = {
    "escalate": _("Escalate"),
    "submit_for_approval": _("Submit for second approval"),
    "approve_escalation": _("Approve and escalate"),
    "decline_escalation": _("Decline"),
    "answer": _("Answer"),
    "ask_info": _("Ask the teller for information"),
    "provide_info": _("Provide information"),
    "dispatch": _("Dispatch to a support group"),
    "send_back": _("Send back down"),
    "transfer": _("Transfer to another group"),
    "complete": _("Complete with an answer"),
    "approve": _("Approve the answer"),
    "return_for_rework": _("Return for rework"),
    "pass_down": _("Pass the answer down"),
    "confirm": _("Confirm resolved"),
    "reject": _("Reject the answer"),
    "claim": _("Take it myself"),
    "auto_close": _("Closed automatically"),
    "withdraw": _("Withdraw"),
}


class TransitionInput(models.TextChoices):
    COMMENT_REQUIRED = "comment_required"
    COMMENT_OPTIONAL = "comment_optional"
    GROUP = "group"
    RATING = "rating"


In = TransitionInput
# What each transition asks for beyond the version: the pages render these, the API validates them.
TRANSITION_INPUTS: dict[str, tuple[str, ...]] = {
    "escalate": (In.COMMENT_REQUIRED,),
    "submit_for_approval": (In.COMMENT_REQUIRED,),
    "approve_escalation": (In.COMMENT_OPTIONAL,),
    "decline_escalation": (In.COMMENT_REQUIRED,),
    "answer": (In.COMMENT_REQUIRED,),
    "ask_info": (In.COMMENT_REQUIRED,),
    "provide_info": (In.COMMENT_REQUIRED,),
    "dispatch": (In.GROUP, In.COMMENT_OPTIONAL),
    "send_back": (In.COMMENT_REQUIRED,),
    "transfer": (In.GROUP, In.COMMENT_REQUIRED),
    "complete": (In.COMMENT_REQUIRED,),
    "approve": (In.COMMENT_OPTIONAL,),
    "return_for_rework": (In.COMMENT_REQUIRED,),
    "pass_down": (In.COMMENT_OPTIONAL,),
    "confirm": (In.RATING, In.COMMENT_OPTIONAL),
    "reject": (In.COMMENT_REQUIRED,),
    "claim": (),
    "auto_close": (),
    "withdraw": (In.COMMENT_REQUIRED,),
}


# --- permissions: role + holding unit -------------------------------------------------------

def _holder(*roles: str):
    """Permission: the person has one of `roles` and works in the unit that holds the request."""

    def check(request, user) -> bool:
        return bool(
            user is not None and user.is_authenticated and user.is_active
            and user.unit_id is not None and user.unit_id == request.holder_unit_id
            and user.has_role(*roles)
        )

    check.__name__ = f"holder_with_{'_or_'.join(roles)}"
    return check


county_holder = _holder(Role.COUNTY_SUPPORT)
city_holder = _holder(Role.CITY_SUPPORT)
dispatcher_holder = _holder(Role.DISPATCHER)
group_holder = _holder(Role.GROUP_MEMBER, Role.GROUP_LEAD)
any_support_holder = _holder(Role.COUNTY_SUPPORT, Role.CITY_SUPPORT, Role.DISPATCHER, Role.GROUP_MEMBER,
                             Role.GROUP_LEAD)


def filed_at_province(request) -> bool:
    """Filed by the provincial centre itself (from an alert incident), not by an outlet's teller."""
    return request.origin_unit.kind in (UnitKind.OPERATIONS, UnitKind.PROVINCE, UnitKind.SUPPORT_GROUP)


def filed_below_province(request) -> bool:
    return not filed_at_province(request)


def requester_only(request, user) -> bool:
    """Only the teller who filed the request (still active, still a teller) acts for it; for a
    request the provincial centre filed, the person who filed it."""
    return bool(user is not None and user.is_authenticated and user.is_active
                and user.pk == request.requester_id
                and (user.has_role(Role.TELLER) or filed_at_province(request)))


def not_yet_taken(request) -> bool:
    """Withdraw: the county has not started on it (nobody took it personally)."""
    return request.assignee_id is None


def second_county_person(request, user) -> bool:
    """Dual control: another county-support person of the holding county, not the preparer."""
    return county_holder(request, user) and user.pk != request.prepared_by_id


def holder_not_yet_assigned(request, user) -> bool:
    """Claim: someone of the holding unit who does not already hold it personally."""
    return any_support_holder(request, user) and request.assignee_id != user.pk


def system_only(request, user) -> bool:
    """Fired by the desk itself (the auto-close task), never by a person."""
    return user is None


def or_system(check):
    """Permission: `check`, or the desk itself (actor None: an SLA policy's automatic escalation,
    recorded in the audit trail as done by the system)."""

    def either(request, user) -> bool:
        return user is None or check(request, user)

    either.__name__ = f"{check.__name__}_or_system"
    return either


# --- conditions ------------------------------------------------------------------------------

def no_dual_control(request) -> bool:
    return not request.request_type.dual_control


def needs_dual_control(request) -> bool:
    return request.request_type.dual_control


def _required(value: str, message) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError(message, code="required")
    return value


def _return_to(request, *args, **kwargs) -> str:
    return request._return_state


def _down_from_province(request, *args, **kwargs) -> str:
    """Where the province's answer goes: down to the city, or straight to a provincial filer."""
    return S.ANSWERED if filed_at_province(request) else S.ANSWER_AT_CITY


class RequestWorkflow(FSMModelMixin, models.Model):
    """Abstract: the state machine of a service request. The concrete model supplies
    `origin_unit`, `requester` and `request_type`; its app registers the audit recorder."""

    state = FSMField(_("state"), max_length=20, choices=RequestState.choices, default=RequestState.AT_COUNTY,
                     protected=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    holder_unit = models.ForeignKey(
        "org.Unit", verbose_name=_("held by"), on_delete=models.PROTECT, related_name="+",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("assignee"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    level = models.CharField(_("level"), max_length=20, choices=UnitKind.choices)
    held_since = models.DateTimeField(_("held since"), default=timezone.now)
    # Where a request waiting for the teller's information goes back to.
    waiting_state = models.CharField(_("waiting to return to"), max_length=20, blank=True)
    waiting_unit = models.ForeignKey("org.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # The unit whose answer is on its way (or was given): a rejected answer goes back to it.
    answer_unit = models.ForeignKey("org.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    answer_text = models.TextField(_("answer"), blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    # Dual control of production-data adjustments.
    prepared_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    rating = models.PositiveSmallIntegerField(_("satisfaction rating"), null=True, blank=True, choices=Rating.choices)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        abstract = True

    # --- routing helpers (the concrete model knows the organisation) ---------------------------
    def _hand_to(self, unit, *, assignee=None) -> None:
        self.holder_unit = unit
        self.level = unit.kind
        self.assignee = assignee
        self.held_since = timezone.now()

    def _set_answer(self, unit, text: str) -> None:
        self.answer_unit = unit
        self.answer_text = text

    # --- county ------------------------------------------------------------------------------
    @transition(field=state, source=S.AT_COUNTY, target=S.AT_CITY, conditions=[no_dual_control],
                permission=or_system(county_holder), custom=counts(E.ESCALATED))
    @transition(field=state, source=S.AT_CITY, target=S.AT_PROVINCE, permission=or_system(city_holder),
                custom=counts(E.ESCALATED))
    def escalate(self, *, actor, comment: str = "", **kwargs) -> dict:
        _required(comment, _("Say why the request goes up."))
        if self.state == S.AT_COUNTY:
            self._hand_to(self.city_unit())
        else:
            self._hand_to(self.operations_unit())
        return {}

    @transition(field=state, source=S.AT_COUNTY, target=S.AWAITING_APPROVAL, conditions=[needs_dual_control],
                permission=county_holder, custom=counts())
    def submit_for_approval(self, *, actor, comment: str = "", **kwargs) -> dict:
        _required(comment, _("Say why the adjustment goes up."))
        self.prepared_by = actor
        self.approved_by = None
        self.held_since = timezone.now()
        return {}

    @transition(field=state, source=S.AWAITING_APPROVAL, target=S.AT_CITY, permission=second_county_person,
                custom=counts(E.ESCALATED))
    def approve_escalation(self, *, actor, comment: str = "", **kwargs) -> dict:
        self.approved_by = actor
        self._hand_to(self.city_unit())
        return {"prepared_by": self.prepared_by_id}

    @transition(field=state, source=S.AWAITING_APPROVAL, target=S.AT_COUNTY, permission=second_county_person,
                custom=counts())
    def decline_escalation(self, *, actor, comment: str = "", **kwargs) -> dict:
        _required(comment, _("Say why the adjustment is declined."))
        self.prepared_by = None
        self.held_since = timezone.now()
        return {}

    # --- answers, at whichever level can give one --------------------------------------------
    @transition(field=state, source=S.AT_COUNTY, target=S.ANSWERED, permission=county_holder,
                custom=counts(E.ANSWERED_HERE, E.GIVES_ANSWER))
    @transition(field=state, source=S.AT_CITY, target=S.ANSWER_AT_COUNTY, permission=city_holder,
                custom=counts(E.ANSWERED_HERE, E.GIVES_ANSWER))
    @transition(field=state, source=S.AT_PROVINCE,
                target=GET_STATE(_down_from_province, states=[S.ANSWER_AT_CITY, S.ANSWERED]),
                permission=dispatcher_holder, custom=counts(E.ANSWERED_HERE, E.GIVES_ANSWER))
    def answer(self, *, actor, comment: str = "", **kwargs) -> dict:
        text = _required(comment, _("Write the answer."))
        source = self.state
        self._set_answer(self.holder_unit, text)
        if source == S.AT_COUNTY or filed_at_province(self):
            self._deliver_to_teller()
        elif source == S.AT_CITY:
            self._hand_to(self.county_unit())
        else:
            self._hand_to(self.city_unit())
        return {}

    def _deliver_to_teller(self) -> None:
        self._hand_to(self.origin_unit, assignee=self.requester)
        self.answered_at = timezone.now()

    @transition(field=state, source=S.ANSWER_AT_CITY, target=S.ANSWER_AT_COUNTY, permission=city_holder,
                custom=counts())
    @transition(field=state, source=S.ANSWER_AT_COUNTY, target=S.ANSWERED, permission=county_holder,
                custom=counts())
    def pass_down(self, *, actor, comment: str = "", **kwargs) -> dict:
        if self.state == S.ANSWER_AT_CITY:
            self._hand_to(self.county_unit())
        else:
            self._deliver_to_teller()
        return {"note": (comment or "").strip()} if (comment or "").strip() else {}

    # --- asking the teller for information -----------------------------------------------------
    @transition(field=state, source=list(WORKING_STATES), target=S.INFO_REQUESTED, permission=any_support_holder,
                custom=counts(E.ASKS_TELLER))
    def ask_info(self, *, actor, comment: str = "", **kwargs) -> dict:
        _required(comment, _("Say what information is needed."))
        self.waiting_state = self.state
        self.waiting_unit = self.holder_unit
        self._hand_to(self.origin_unit, assignee=self.requester)
        return {}

    @transition(field=state, source=S.INFO_REQUESTED, target=GET_STATE(_return_to, states=list(WORKING_STATES)),
                permission=requester_only, custom=counts())
    def provide_info(self, *, actor, comment: str = "", **kwargs) -> dict:
        _required(comment, _("Write the information asked for."))
        self._return_state = self.waiting_state
        self._hand_to(self.waiting_unit)
        self.waiting_state, self.waiting_unit = "", None
        return {}

    # --- provincial operations -----------------------------------------------------------------
    @transition(field=state, source=S.AT_PROVINCE, target=S.AT_GROUP, permission=dispatcher_holder,
                custom=counts())
    def dispatch(self, *, actor, comment: str = "", group=None, **kwargs) -> dict:
        group = self._support_group(group)
        self._hand_to(group)
        return {"group": group.pk}

    @transition(field=state, source=S.AT_PROVINCE, target=S.AT_CITY, conditions=[filed_below_province],
                permission=dispatcher_holder, custom=counts(E.SENT_BACK))
    def send_back(self, *, actor, comment: str = "", **kwargs) -> dict:
        _required(comment, _("Say why the request is sent back."))
        self._hand_to(self.city_unit())
        return {}

    @transition(field=state, source=S.IN_REVIEW,
                target=GET_STATE(_down_from_province, states=[S.ANSWER_AT_CITY, S.ANSWERED]),
                permission=dispatcher_holder, custom=counts(E.ANSWER_APPROVED))
    def approve(self, *, actor, comment: str = "", **kwargs) -> dict:
        if filed_at_province(self):
            self._deliver_to_teller()
        else:
            self._hand_to(self.city_unit())
        return {}

    @transition(field=state, source=S.IN_REVIEW, target=S.AT_GROUP, permission=dispatcher_holder,
                custom=counts(E.RETURNED_FOR_REWORK))
    def return_for_rework(self, *, actor, comment: str = "", **kwargs) -> dict:
        _required(comment, _("Say what needs rework."))
        self._hand_to(self.answer_unit)
        return {}

    # --- support groups ------------------------------------------------------------------------
    @transition(field=state, source=S.AT_GROUP, target=S.AT_GROUP, permission=group_holder,
                custom=counts(E.TRANSFERRED))
    def transfer(self, *, actor, comment: str = "", group=None, **kwargs) -> dict:
        _required(comment, _("Say why the request goes to another group."))
        group = self._support_group(group)
        if group.pk == self.holder_unit_id:
            raise ValidationError(_("The request is already with this group."), code="same_group")
        self._hand_to(group)
        return {"group": group.pk}

    @transition(field=state, source=S.AT_GROUP, target=S.IN_REVIEW, permission=group_holder,
                custom=counts(E.GIVES_ANSWER))
    def complete(self, *, actor, comment: str = "", **kwargs) -> dict:
        text = _required(comment, _("Write the answer."))
        self._set_answer(self.holder_unit, text)
        self._hand_to(self.operations_unit())
        return {}

    # --- anyone holding it may take it personally ----------------------------------------------
    @transition(field=state, source=[S.AT_COUNTY, S.AT_CITY, S.AT_PROVINCE, S.AT_GROUP, S.IN_REVIEW,
                                     S.ANSWER_AT_CITY, S.ANSWER_AT_COUNTY],
                target=None, permission=holder_not_yet_assigned, custom=counts())
    def claim(self, *, actor, comment: str = "", **kwargs) -> dict:
        self.assignee = actor
        return {}

    # --- the teller ----------------------------------------------------------------------------
    @transition(field=state, source=S.ANSWERED, target=S.CLOSED, permission=requester_only,
                custom=counts(E.CLOSED))
    def confirm(self, *, actor, comment: str = "", rating=None, **kwargs) -> dict:
        try:
            rating = int(rating)
        except (TypeError, ValueError):
            rating = 0
        if not 1 <= rating <= 5:
            raise ValidationError(_("Give a satisfaction rating from 1 to 5."), code="rating")
        self.rating = rating
        self.closed_at = timezone.now()
        self.assignee = None
        return {"rating": rating}

    @transition(field=state, source=S.ANSWERED,
                target=GET_STATE(_return_to, states=[S.AT_COUNTY, S.AT_CITY, S.AT_PROVINCE, S.AT_GROUP]),
                permission=requester_only, custom=counts(E.ANSWER_REJECTED))
    def reject(self, *, actor, comment: str = "", **kwargs) -> dict:
        _required(comment, _("Say why the answer does not solve it."))
        unit = self.answer_unit
        self._return_state = {
            UnitKind.COUNTY: S.AT_COUNTY, UnitKind.CITY: S.AT_CITY, UnitKind.OPERATIONS: S.AT_PROVINCE,
            UnitKind.PROVINCE: S.AT_PROVINCE, UnitKind.SUPPORT_GROUP: S.AT_GROUP,
        }[unit.kind]
        self._hand_to(unit)
        self.answered_at = None
        return {}

    @transition(field=state, source=S.AT_COUNTY, target=S.CLOSED, conditions=[not_yet_taken],
                permission=requester_only, custom=counts())
    def withdraw(self, *, actor, comment: str = "", **kwargs) -> dict:
        """The teller filed it by mistake: it closes before anyone has taken it (counted nowhere)."""
        _required(comment, _("Say why the request is withdrawn."))
        self.closed_at = timezone.now()
        self.assignee = None
        return {"withdrawn": True}

    @transition(field=state, source=S.ANSWERED, target=S.CLOSED, permission=system_only,
                custom=counts(E.CLOSED))
    def auto_close(self, *, actor=None, comment: str = "", **kwargs) -> dict:
        self.closed_at = timezone.now()
        self.assignee = None
        return {}

    # --- helpers -------------------------------------------------------------------------------
    @staticmethod
    def _support_group(group):
        if group is None or group == "":
            raise ValidationError(_("Choose a support group."), code="group")
        if not isinstance(group, Unit):
            try:
                group = Unit.objects.get(pk=int(group), is_active=True)
            except (Unit.DoesNotExist, TypeError, ValueError):
                raise ValidationError(_("Choose a support group."), code="group") from None
        if group.kind != UnitKind.SUPPORT_GROUP:
            raise ValidationError(_("Choose a support group."), code="group")
        return group


@cache
def _effects_by_name() -> dict[str, frozenset]:
    return {**CREATION_EFFECTS, **declared_effects(RequestWorkflow)}


def transition_effects(name: str) -> frozenset[ReportEffect]:
    """What transition `name` (or the filing, `SUBMIT`) counts as; nothing for a name that is neither."""
    return _effects_by_name().get(name, frozenset())

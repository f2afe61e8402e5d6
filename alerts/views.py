"""Pages of the alert app: the live operator board, its JSON feed, incident detail, raw mail, the
maintenance windows and the rule-test page. Views only read input, call selectors/services and render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from alerts import selectors, services, silencing, teaching
from alerts.choices import AlertStatus, Category, Severity
from alerts.forms import (
    BoardFilterForm,
    CorrectionForm,
    IncidentActionForm,
    IncidentNoteForm,
    IncidentSearchForm,
    IncidentSilenceForm,
    RuleConfirmForm,
    RuleTestForm,
    SilenceForm,
)
from alerts.history import incident_history, state_label
from alerts.models import ParsingRule, Silence
from alerts.parsing.mime import parse_bytes
from alerts.reasons import reason_label
from opsdesk import scoping
from opsdesk.inputs import ascii_int
from opsdesk.org.models import ProductionSystem
from opsdesk.paging import numbered_page
from workflow.engine import TransitionConflict, TransitionError, TransitionForbidden, available_transitions
from workflow.incidents import IncidentState, may_act_on_incidents

__all__ = ["board", "board_feed", "incident_detail", "incident_act", "incidents_resolved", "message_raw", "rule_test",
           "silences", "silence_end", "teach", "ticket_url_for"]

FEED_INTERVAL_MS = 1000
RESOLVED_PAGE_SIZE = 50


def ticket_url_for(incident) -> str:
    """Where "open a service request" goes: the tickets app's form filed from this incident
    (prefilled with its system, host and summary; the request keeps the link). Named by URL only:
    the alert app does not import the tickets app."""
    try:
        return reverse("tickets:new_from_incident", args=[incident.pk])
    except NoReverseMatch:
        return ""


def _filters(request: HttpRequest) -> dict:
    form = BoardFilterForm(request.GET)
    return {k: v for k, v in form.cleaned_data.items() if v} if form.is_valid() else {}


@login_required
def board(request: HttpRequest) -> HttpResponse:
    filters = _filters(request)
    return render(request, "alerts/board.html", {
        "filters": filters,
        "systems": ProductionSystem.objects.filter(is_active=True).order_by("code"),
        "categories": Category.choices,
        "feed_url": reverse("alerts:board_feed"),
        "interval_ms": FEED_INTERVAL_MS,
        "may_act": may_act_on_incidents(request.user),
        "silences_url": reverse("alerts:silences"),
        "labels": _board_labels(),
    })


def _board_labels() -> dict:
    return {
        "acknowledge": _("Acknowledge"), "resolve": _("Resolve"), "silence": _("Silence"),
        "ticket": _("Open service request"), "note": _("Note"), "minutes": _("Minutes"), "reason": _("Reason"),
        "confirm": _("Confirm"), "flapping": _("flapping"), "silenced": _("silenced"), "updated": _("Updated"),
        "offline": _("Connection lost, retrying…"), "detail": _("Details"), "needs_review": _("needs review"),
    }


def _incident_json(inc, now, may_act: bool) -> dict:
    return {
        "id": inc.pk, "version": inc.version, "state": inc.state, "state_label": str(inc.get_state_display()),
        "severity": inc.severity, "severity_label": str(inc.get_severity_display()),
        "host": inc.host, "check": inc.check_title, "category": str(inc.get_category_display()),
        "system": inc.system.name if inc.system_id else "", "system_code": inc.system.code if inc.system_id else "",
        "summary": inc.summary[:300], "first_seen": inc.first_seen.isoformat(),
        "age": timesince(inc.first_seen, now), "occurrences": inc.occurrences, "flapping": inc.flapping,
        "silenced": inc.is_silenced, "alarming": inc.alarming, "needs_review": inc.needs_review,
        "detail_url": reverse("alerts:incident", args=[inc.pk]),
        # Those who act on the board file requests from it (readers, the managers, do not).
        "ticket_url": ticket_url_for(inc) if may_act else "",
        "can_acknowledge": may_act and inc.state == "open", "can_resolve": may_act,
        "can_silence": may_act,
    }


@never_cache
@login_required
def board_feed(request: HttpRequest) -> JsonResponse:
    """The small JSON the board polls every second."""
    now = timezone.now()
    incidents = selectors.board_incidents(user=request.user, **_filters(request))
    may_act = may_act_on_incidents(request.user)
    return JsonResponse({
        "generated_at": now.isoformat(),
        "alarm": selectors.board_alarm(incidents),
        "incidents": [_incident_json(inc, now, may_act) for inc in incidents],
    })


@login_required
def incident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    incident = selectors.incident_get(user=request.user, pk=pk)
    if incident is None:
        raise Http404
    alerts = list(incident.alerts.select_related("message", "silence").order_by("occurred_at", "pk")[:500])
    may_act = may_act_on_incidents(request.user)
    return render(request, "alerts/incident_detail.html", {
        "incident": incident,
        "state_label": state_label(incident.state),
        "alerts": alerts,
        "history": incident_history(events=incident.events.select_related("actor"), alerts=alerts),
        "may_act": may_act,
        "may_teach": teaching.may_teach(request.user),
        "actions": _incident_actions(incident, request.user) if may_act else [],
        "silence_form": IncidentSilenceForm() if may_act and incident.state != IncidentState.RESOLVED else None,
        "note_form": IncidentNoteForm() if may_act else None,
    })


# The transition buttons of the incident page, in this order; each goes through alerts.services.
TRANSITION_SERVICES = {"acknowledge": services.incident_acknowledge, "resolve": services.incident_resolve,
                       "reopen": services.incident_reopen}


def _action_label(name: str) -> str:
    return {"acknowledge": _("Acknowledge"), "resolve": _("Resolve"), "reopen": _("Reopen"), "silence": _("Silence"),
            "note": _("Add a note")}.get(name, name)


def _incident_actions(incident, user) -> list[dict]:
    """The buttons the state machine allows this person now."""
    allowed = set(available_transitions(incident, user))
    return [{"name": name, "label": _action_label(name),
             "form": IncidentActionForm(initial={"version": incident.version}, prefix=name)}
            for name in TRANSITION_SERVICES if name in allowed]


def _refusal(exc: TransitionError) -> str:
    """The engine's refusal in the UI's words (its own messages are for the API and the logs)."""
    if isinstance(exc, TransitionConflict):
        return _("Someone else changed this incident first; this is its state now.")
    if isinstance(exc, TransitionForbidden):
        return _("You may not do this.")
    return _("This cannot be done now: the incident is %(state)s.") % {"state": state_label(exc.state or "")}


@require_POST
@login_required
def incident_act(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    """One button of the incident page: acknowledge, resolve, reopen, silence or a note."""
    if not may_act_on_incidents(request.user):
        raise PermissionDenied(_("Only the people on the alert board act on incidents."))
    if selectors.incident_get(user=request.user, pk=pk) is None:
        raise Http404
    back = redirect("alerts:incident", pk=pk)
    try:
        if name == "silence":
            form = IncidentSilenceForm(request.POST)
            if form.is_valid():
                silence = services.incident_silence(actor=request.user, incident_pk=pk, **form.cleaned_data)
                messages.success(request, _("Silenced until %(end)s.") % {
                    "end": timezone.localtime(silence.ends_at).strftime("%Y-%m-%d %H:%M")})
        elif name == "note":
            form = IncidentNoteForm(request.POST)
            if form.is_valid():
                services.incident_note_add(actor=request.user, incident_pk=pk, text=form.cleaned_data["text"])
                messages.success(request, _("Note added."))
        elif name in TRANSITION_SERVICES:
            form = IncidentActionForm(request.POST, prefix=name)
            if form.is_valid():
                result = TRANSITION_SERVICES[name](actor=request.user, incident_pk=pk,
                                                   expected_version=form.cleaned_data["version"],
                                                   comment=form.cleaned_data.get("comment", ""))
                messages.success(request, _("Done: %(action)s. The incident is %(state)s now.") % {
                    "action": _action_label(name), "state": state_label(result.obj.state)})
        else:
            raise Http404
    except TransitionError as exc:
        messages.error(request, _refusal(exc))
        return back
    except services.ActionRefused as exc:
        if exc.status_code == 403:
            raise PermissionDenied(exc.message) from None
        messages.error(request, exc.message)
        return back
    if form.errors:
        messages.error(request, " ".join(f"{form.fields[f].label if f in form.fields else ''} {' '.join(e)}".strip()
                                         for f, e in form.errors.items()))
    return back


@login_required
def incidents_resolved(request: HttpRequest) -> HttpResponse:
    """Past incidents, searchable, newest resolved first, with numbered pages."""
    if not (request.user.is_administrator or scoping.sees_incidents(request.user)):
        raise PermissionDenied(_("Only the people on the alert board and the centre's managers see incidents."))
    form = IncidentSearchForm(request.GET or None)
    filters = form.filters() if form.is_bound and form.is_valid() else {}
    found = selectors.incident_search(user=request.user, **filters)
    page = numbered_page(found, RESOLVED_PAGE_SIZE, request.GET.get("page"))
    return render(request, "alerts/incidents_resolved.html", {"form": form, "page": page},
                  status=400 if form.is_bound and not form.is_valid() else 200)


@login_required
def message_raw(request: HttpRequest, pk: int) -> HttpResponse:
    """The raw e-mail as plain text: never rendered as HTML."""
    message = selectors.message_get(user=request.user, pk=pk)
    if message is None:
        raise Http404
    response = HttpResponse(bytes(message.raw), content_type="text/plain; charset=utf-8")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Content-Disposition"] = f'inline; filename="message-{message.pk}.txt"'
    return response


@login_required
def silences(request: HttpRequest) -> HttpResponse:
    """Maintenance windows in force and to come, and the form that opens one."""
    if not silencing.may_manage_silences(request.user):
        raise PermissionDenied
    form = SilenceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            silence = silencing.silence_create(actor=request.user, **form.service_arguments())
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(None if field == "__all__" else field, error)
        else:
            messages.success(request, _("Maintenance window %(window)s opened until %(end)s.") % {
                "window": silence, "end": timezone.localtime(silence.ends_at).strftime("%Y-%m-%d %H:%M")})
            return redirect("alerts:silences")
    now = timezone.now()
    return render(request, "alerts/silences.html", {
        "form": form,
        "silences": silencing.silence_list(user=request.user, state=silencing.SilenceListState.PENDING, at=now),
        "now": now,
    }, status=400 if request.method == "POST" else 200)


@require_POST
@login_required
def silence_end(request: HttpRequest, pk: int) -> HttpResponse:
    if not silencing.may_manage_silences(request.user):
        raise PermissionDenied
    try:
        silence = silencing.silence_end(actor=request.user, pk=pk)
    except Silence.DoesNotExist:
        raise Http404 from None
    messages.success(request, _("Maintenance window %(window)s ended.") % {"window": silence})
    return redirect("alerts:silences")


@login_required
def rule_test(request: HttpRequest) -> HttpResponse:
    """Try a parsing rule (a new one, or an existing one loaded with ?rule=ID) on a pasted e-mail."""
    if not request.user.is_administrator:
        raise PermissionDenied
    trial = None
    rules_title = _("With the rules (this one first)")
    if request.method == "POST":
        form = RuleTestForm(request.POST)
        if form.is_valid():
            raw = form.cleaned_data["email"].replace("\r\n", "\n").encode("utf-8")
            trial = teaching.rule_trial(raw, form.save(commit=False).to_rule() if form.has_rule() else None)
            if not form.has_rule():
                rules_title = _("With the rules in force")
    else:
        initial = {}
        rule_pk = ascii_int(request.GET.get("rule"), minimum=1)
        if rule_pk is not None:
            existing = ParsingRule.objects.filter(pk=rule_pk).first()
            if existing is not None:
                form = RuleTestForm(instance=existing)
                return render(request, "alerts/rule_test.html", {"form": form})
        form = RuleTestForm(initial=initial)
    readings = None
    if trial is not None:  # side by side, in the UI's words (teaching.rule_trial)
        readings = [{"key": key, "title": title, "reading": reading,
                     "reason": reason_label(reading.result.reason) if reading.result else "",
                     "alerts": [{**_labelled(_shape(a)), "code": a.severity}
                                for a in (reading.result.alerts if reading.result else [])]}
                    for key, title, reading in (("builtin", _("Built-in parsers alone"), trial.builtin),
                                                ("rules", rules_title, trial.with_rules))]
    return render(request, "alerts/rule_test.html", {"form": form, "readings": readings, "tested": trial is not None})


def _pk(value: str | None) -> int | None:
    return ascii_int(value, minimum=1)


@login_required
def teach(request: HttpRequest) -> HttpResponse:
    """Correct how a mail was read (from an incident or a quarantined mail): the desk proposes a
    rule, shows what it would change on recent mail, and applies it on confirmation."""
    if not teaching.may_teach(request.user):
        raise PermissionDenied
    data = request.POST if request.method == "POST" else request.GET
    incident_pk, message_pk = _pk(data.get("incident")), _pk(data.get("message"))
    if incident_pk is None and message_pk is None:
        raise Http404
    try:
        lesson = teaching.lesson_for(user=request.user, incident_pk=incident_pk,
                                     message_pk=None if incident_pk else message_pk)
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as exc:
        return render(request, "alerts/teach.html", {"problem": " ".join(exc.messages)}, status=400)
    first = lesson.first
    initial = {"host": first.host, "check": first.check, "severity": first.severity, "status": first.status,
               "category": first.category} if first else {}
    context = {"lesson": lesson, "origin": {"incident": incident_pk or "", "message": message_pk or ""},
               "text": _excerpt(lesson.message), "reading": [_labelled(_shape(a)) for a in lesson.reading]}
    step = request.POST.get("step") if request.method == "POST" else None
    correction = CorrectionForm(request.POST if step == "preview" else None, initial={**initial, "last": 200})
    context["correction"] = correction
    status = 200
    if step == "preview":
        if correction.is_valid():
            try:
                rule = teaching.propose_rule(lesson, correction.cleaned_data)
            except ValidationError as exc:
                correction.add_error(None, " ".join(exc.messages))
                status = 400
            else:
                last = correction.cleaned_data.get("last") or teaching.TESTER_DEFAULT_MESSAGES
                context["rule_form"] = RuleConfirmForm(initial={
                    **{f: getattr(rule, f) or "" for f in teaching.RULE_FORM_FIELDS}, "last": last})
                context["tested"] = teaching.try_rule(rule, last=last)
                context["tested_rows"] = _tester_rows(context["tested"])
        else:
            status = 400
    elif step == "apply":
        form = RuleConfirmForm(request.POST)
        if form.is_valid():
            rule = form.save(commit=False).to_rule()
            tested = teaching.try_rule(rule, last=form.cleaned_data["last"])
            try:
                saved = teaching.rule_apply(actor=request.user, rule=rule, lesson=lesson, tested=tested)
            except ValidationError as exc:
                form.add_error(None, " ".join(exc.messages))
            else:
                messages.success(request, _("Rule %(rule)s is in force; it changed the reading of %(n)d of the "
                                            "last %(m)d mails.") % {"rule": saved.name, "n": len(tested.changed),
                                                                     "m": tested.tested})
                if lesson.incident is not None:
                    return redirect("alerts:incident", pk=lesson.incident.pk)
                return redirect(f"{reverse('alerts:teach')}?message={lesson.message.pk}")
        context["rule_form"] = form
        status = 400
    return render(request, "alerts/teach.html", context, status=status)


def _shape(alert) -> tuple:
    return (alert.host, alert.check, alert.severity, alert.status, alert.category, alert.needs_review)


def _labelled(shape: tuple) -> dict:
    """An alert's reading with the UI's words for severity, state and category."""
    host, check, severity, status, category = shape[:5]
    return {"host": host, "check": check, "severity": Severity(severity).label if severity in Severity.values else severity,
            "status": AlertStatus(status).label if status in AlertStatus.values else status,
            "category": Category(category).label if category in Category.values else category,
            "needs_review": shape[5] if len(shape) > 5 else ""}


def _tester_rows(tested) -> list[dict]:
    return [{"message_pk": row.message_pk, "subject": row.subject,
             "before": [_labelled(a) for a in row.before], "after": [_labelled(a) for a in row.after]}
            for row in tested.changed[:50]]


def _excerpt(message) -> str:
    view = parse_bytes(bytes(message.raw))
    return view.text[:4000]

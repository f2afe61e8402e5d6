"""Pages of the alert app: the live operator board, its JSON feed, incident detail, raw mail, the
maintenance windows and the rule-test page. Views only read input, call selectors/services and render."""

from __future__ import annotations

from urllib.parse import urlencode

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

from alerts import selectors, silencing, teaching
from alerts.choices import AlertStatus, Category, Severity
from alerts.forms import BoardFilterForm, CorrectionForm, RuleConfirmForm, RuleTestForm, SilenceForm
from alerts.models import ParsingRule, Silence
from alerts.parsing import ParseError, parse_message
from alerts.parsing.mime import parse_bytes
from opsdesk.inputs import ascii_int
from opsdesk.org.models import ProductionSystem
from workflow.incidents import may_act_on_incidents

__all__ = ["board", "board_feed", "incident_detail", "message_raw", "rule_test", "silences", "silence_end",
           "teach", "ticket_url_for"]

FEED_INTERVAL_MS = 1000


def ticket_url_for(incident) -> str:
    """Where "open a service request" goes: the new-request form with the system preselected."""
    try:
        base = reverse("tickets:new")
    except NoReverseMatch:
        return ""
    params = {"incident": incident.pk}
    if incident.system_id:
        params["system"] = incident.system.code
    return f"{base}?{urlencode(params)}"


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
        "host": inc.host, "check": inc.check_name, "category": str(inc.get_category_display()),
        "system": inc.system.name if inc.system_id else "", "system_code": inc.system.code if inc.system_id else "",
        "summary": inc.summary[:300], "first_seen": inc.first_seen.isoformat(),
        "age": timesince(inc.first_seen, now), "occurrences": inc.occurrences, "flapping": inc.flapping,
        "silenced": inc.is_silenced, "alarming": inc.alarming, "needs_review": inc.needs_review,
        "detail_url": reverse("alerts:incident", args=[inc.pk]), "ticket_url": ticket_url_for(inc),
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
    return render(request, "alerts/incident_detail.html", {
        "incident": incident,
        "alerts": incident.alerts.select_related("message", "silence").order_by("occurred_at", "pk")[:500],
        "events": incident.events.select_related("actor"),
        "ticket_url": ticket_url_for(incident),
        "may_act": may_act_on_incidents(request.user),
        "may_teach": teaching.may_teach(request.user),
    })


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
    result = error = None
    matched_rule = ""
    if request.method == "POST":
        form = RuleTestForm(request.POST)
        if form.is_valid():
            rule = form.save(commit=False).to_rule()
            raw = form.cleaned_data["email"].replace("\r\n", "\n").encode("utf-8")
            try:
                result = parse_message(raw, rules=[rule])
                matched_rule = next((a.fields.get("rule", "") for a in result.alerts if a.fields.get("rule")), "")
            except ParseError as exc:
                error = str(exc)
    else:
        initial = {}
        rule_pk = ascii_int(request.GET.get("rule"), minimum=1)
        if rule_pk is not None:
            existing = ParsingRule.objects.filter(pk=rule_pk).first()
            if existing is not None:
                form = RuleTestForm(instance=existing)
                return render(request, "alerts/rule_test.html", {"form": form})
        form = RuleTestForm(initial=initial)
    return render(request, "alerts/rule_test.html", {
        "form": form, "result": result, "error": error, "matched_rule": matched_rule,
        "tested": request.method == "POST" and form.is_valid(),
    })


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

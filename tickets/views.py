"""Pages of the service-request desk. Thin: selectors to read, services to write, forms to parse."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from alerts.selectors import incident_get
from opsdesk import scoping
from opsdesk.org.choices import Role, UnitKind
from opsdesk.org.models import ProductionSystem, Unit
from opsdesk.paging import numbered_page
from tickets import incident_requests, selectors, services
from tickets.api.views import attachment_response
from tickets.choices import FieldKind
from tickets.errors import action_label, describe_transition_error
from tickets.forms import ActionForm, AttachmentForm, CommentForm, form_for_type
from tickets.models import RequestType
from tickets.search import COUNT_LIMIT, RequestSearchForm, request_search
from workflow.engine import TransitionError

__all__ = ["mine", "new", "new_of_type", "queue", "triage", "group_board", "detail", "act", "comment", "attach",
           "download", "search", "bulk", "saved_view_save", "saved_view_delete", "groups_overview", "new_from_incident"]

PAGE_SIZE = 50


def _page(request: HttpRequest, queryset):
    return numbered_page(queryset.select_related("system"), PAGE_SIZE, request.GET.get("page"))


def _with_actions(page, user):
    for item in page:
        item.actions = [(name, action_label(name)) for name in selectors.request_actions(request=item, user=user)]
    return page


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    page = _page(request, selectors.requests_mine(user=request.user))
    return render(request, "tickets/mine.html", {"page": _with_actions(page, request.user)})


@login_required
def new(request: HttpRequest) -> HttpResponse:
    return render(request, "tickets/new.html", {"types": RequestType.objects.filter(is_active=True)})


@login_required
def new_of_type(request: HttpRequest, code: str) -> HttpResponse:
    request_type = get_object_or_404(RequestType, code=code, is_active=True)
    if not request.user.has_role(Role.TELLER):
        raise PermissionDenied
    form = form_for_type(request_type, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            created = services.request_create(
                requester=request.user, request_type=request_type, subject=form.cleaned_data["subject"],
                system=form.cleaned_data.get("system"), data=form.type_data(),
                submission_key=form.cleaned_data.get("submission_key", ""),
            )
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            upload = request.FILES.get("attachment")
            # Sent again: its first sending stored the attachment, unless it broke off before that.
            if upload and not (created.replayed and created.attachments.exists()):
                try:
                    services.request_attachment_add(request=created, uploader=request.user, upload=upload)
                except ValidationError as exc:
                    messages.error(request, " ".join(exc.messages))
            messages.success(request, _("Request %(number)s was sent to your county support centre.")
                             % {"number": created.number})
            return redirect("tickets:detail", pk=created.pk)
    incidents = {}
    if request_type.system_required:
        for system in ProductionSystem.objects.filter(is_active=True):
            found = selectors.known_incidents_for_system(user=request.user, system=system)
            if found:
                incidents[system.pk] = (system, found)
    return render(request, "tickets/new_of_type.html",
                  {"request_type": request_type, "form": form, "known_incidents": incidents.values(),
                   "chosen_system": _chosen_system(form)})


def _chosen_system(form) -> int | None:
    """The production system the form is filled for (its known-incident box is the one shown)."""
    value = form["system"].value()
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _board(request: HttpRequest, queryset, title: str, *, show_actions: bool = True) -> HttpResponse:
    page = _page(request, queryset)
    if show_actions:
        _with_actions(page, request.user)
    return render(request, "tickets/board.html", {"page": page, "title": title})


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    return _board(request, selectors.request_queue(user=request.user), _("Queue"))


@login_required
def triage(request: HttpRequest) -> HttpResponse:
    return _board(request, selectors.request_triage_board(user=request.user), _("Triage board"))


@login_required
def group_board(request: HttpRequest) -> HttpResponse:
    unit = request.user.unit if request.user.unit and request.user.unit.kind == UnitKind.SUPPORT_GROUP else None
    queryset = selectors.request_queue(user=request.user, unit=unit) if unit else selectors.request_list(
        user=request.user).none()
    return _board(request, queryset, _("Group board"))


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    obj = selectors.request_get(user=request.user, pk=pk)
    actions = [
        (name, action_label(name), ActionForm(action=name, initial={"version": obj.version}, prefix=name))
        for name in selectors.request_actions(request=obj, user=request.user)
    ]
    return render(request, "tickets/detail.html", {
        "req": obj,
        "timeline": selectors.request_timeline(request=obj),
        "actions": actions,
        "comments": selectors.comment_list(user=request.user, request=obj),
        "attachments": selectors.attachment_list(user=request.user, request=obj),
        "comment_form": CommentForm(),
        "attachment_form": AttachmentForm(),
        "known_incidents": selectors.known_incidents_for_system(user=request.user, system=obj.system),
        "fields": _labelled_data(obj),
    })


def _labelled_data(obj) -> list[tuple[str, str]]:
    """The type's fields in the order of its form, with labels and choice values translated."""
    rows = []
    for spec in obj.request_type.fields:
        if spec["name"] not in obj.data:
            continue
        value = obj.data[spec["name"]]
        if spec["kind"] == FieldKind.CHOICE:
            value = _(dict((str(v), label) for v, label in spec.get("choices", [])).get(str(value), str(value)))
        elif spec["kind"] == FieldKind.DATETIME:
            parsed = parse_datetime(str(value))
            value = date_format(timezone.localtime(parsed), "Y-m-d H:i") if parsed else value
        rows.append((_(spec["label"]), value))
    return rows


@login_required
@require_POST
def act(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    obj = selectors.request_get(user=request.user, pk=pk)
    form = ActionForm(request.POST, action=name, prefix=name)
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"{action_label(name)}: {label} {' '.join(errors)}".strip())
        return redirect("tickets:detail", pk=obj.pk)
    try:
        services.request_transition(request_id=obj.pk, name=name, actor=request.user,
                                    version=form.cleaned_data["version"], comment=form.cleaned_data.get("comment", ""),
                                    **form.transition_kwargs())
    except TransitionError as exc:
        messages.error(request, describe_transition_error(exc))
        return redirect("tickets:detail", pk=obj.pk)
    except ValidationError as exc:
        messages.error(request, f"{action_label(name)}: {' '.join(exc.messages)}")
        return redirect("tickets:detail", pk=obj.pk)
    messages.success(request, _("Done: %(action)s.") % {"action": action_label(name)})
    try:
        return redirect("tickets:detail", pk=selectors.request_get(user=request.user, pk=pk).pk)
    except Http404:  # handed somewhere the person no longer sees
        return redirect(reverse("home"))


@login_required
@require_POST
def comment(request: HttpRequest, pk: int) -> HttpResponse:
    obj = selectors.request_get(user=request.user, pk=pk)
    form = CommentForm(request.POST)
    if form.is_valid():
        services.request_comment_add(request=obj, author=request.user, body=form.cleaned_data["body"])
        messages.success(request, _("Comment added."))
    else:
        messages.error(request, _("Write a comment."))
    return redirect(reverse("tickets:detail", args=[obj.pk]) + "#comments")


@login_required
@require_POST
def attach(request: HttpRequest, pk: int) -> HttpResponse:
    obj = selectors.request_get(user=request.user, pk=pk)
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        services.request_attachment_add(request=obj, uploader=request.user, upload=form.cleaned_data["file"])
        messages.success(request, _("File attached."))
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return redirect(reverse("tickets:detail", args=[obj.pk]) + "#attachments")


@login_required
def download(request: HttpRequest, pk: int, attachment_pk: int) -> HttpResponse:
    obj = selectors.request_get(user=request.user, pk=pk)
    attachment = selectors.attachment_list(user=request.user, request=obj).filter(pk=attachment_pk).first()
    if attachment is None:
        raise Http404
    return attachment_response(attachment)


# --- finding and overseeing work -------------------------------------------------------------------

@login_required
def search(request: HttpRequest) -> HttpResponse:
    """Find requests: text, outlet, person and filters, the person's saved views, numbered pages,
    and the bulk actions that make sense on what was found."""
    form = RequestSearchForm(request.GET)
    for name in UNIT_FILTERS:  # set by a drill-down link, shown by name below the filters, not as an id box
        form.fields[name].widget = forms.HiddenInput()
    page, count_limit = None, COUNT_LIMIT
    if form.is_valid():
        found = request_search(user=request.user, filters=form.filters(),
                               related=(*selectors.LIST_RELATED, "system"))
        page = _with_actions(numbered_page(found, PAGE_SIZE, request.GET.get("page")), request.user)
        count_limit = found.count_limit  # lower for a text search (tickets.search.TEXT_COUNT_LIMIT)
    bulk_actions = services.bulk_actions_for(request.user)
    return render(request, "tickets/search.html", {
        "form": form, "page": page, "count_limit": count_limit,
        "saved_views": selectors.saved_views(user=request.user),
        "bulk_actions": [(name, action_label(name)) for name in bulk_actions],
        "groups": Unit.objects.filter(kind=UnitKind.SUPPORT_GROUP, is_active=True).order_by("name")
        if "dispatch" in bulk_actions else [],
        "query": _query_without_page(request),
        "unit_filters": _unit_filters(request, form),
    })


UNIT_FILTERS = {"unit": gettext_lazy("Filed under"), "holder": gettext_lazy("Held by")}


def _unit_filters(request: HttpRequest, form: RequestSearchForm) -> list[dict]:
    """The unit filters in force, by the unit's name, each with the query that drops it."""
    if not form.is_valid():
        return []
    chosen = {name: form.cleaned_data[name] for name in UNIT_FILTERS if form.cleaned_data.get(name)}
    names = dict(Unit.objects.filter(pk__in=chosen.values()).values_list("pk", "name"))
    filters = []
    for name, pk in chosen.items():
        params = request.GET.copy()
        params.pop(name, None)
        params.pop("page", None)
        filters.append({"label": UNIT_FILTERS[name], "unit": names.get(pk, f"#{pk}"), "without": params.urlencode()})
    return filters


def _query_without_page(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def _back(request: HttpRequest, fallback: str) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return redirect(target)
    return redirect(fallback)


@login_required
@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    """Claim or dispatch the chosen requests: each one on its own, and each outcome reported."""
    ids = [int(v) for v in request.POST.getlist("ids") if v.isascii() and v.isdigit() and len(v) < 19]
    try:
        outcomes = services.requests_bulk_transition(
            actor=request.user, request_ids=ids, name=request.POST.get("action", ""),
            comment=request.POST.get("comment", "")[:4000], group=request.POST.get("group") or None)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return _back(request, reverse("tickets:search"))
    done = [o for o in outcomes if o.ok]
    if done:
        messages.success(request, _("%(action)s: %(n)s done (%(numbers)s).") % {
            "action": action_label(request.POST["action"]), "n": len(done),
            "numbers": "、".join(o.number for o in done)})
    for outcome in outcomes:
        if not outcome.ok:
            messages.error(request, _("%(number)s: %(message)s") % {"number": outcome.number,
                                                                   "message": outcome.message})
    return _back(request, reverse("tickets:search"))


@login_required
@require_POST
def saved_view_save(request: HttpRequest) -> HttpResponse:
    try:
        view = services.saved_view_save(owner=request.user, name=request.POST.get("name", ""),
                                        query=request.POST.get("query", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(reverse("tickets:search") + "?" + request.POST.get("query", ""))
    messages.success(request, _("View “%(name)s” saved.") % {"name": view.name})
    return redirect(reverse("tickets:search") + "?" + view.query)


@login_required
@require_POST
def saved_view_delete(request: HttpRequest, pk: int) -> HttpResponse:
    services.saved_view_delete(owner=request.user, pk=pk)
    messages.success(request, _("View deleted."))
    return redirect("tickets:search")


@login_required
def groups_overview(request: HttpRequest) -> HttpResponse:
    """The dispatcher's overview: everything out with the support groups, longest waiting first."""
    user = request.user
    if not (user.is_administrator or (scoping.is_province_staff(user) and user.has_role(Role.DISPATCHER,
                                                                                        Role.MANAGER))):
        raise PermissionDenied
    return render(request, "tickets/overview.html", {"loads": selectors.requests_with_groups(user=user),
                                                     "now": timezone.now()})


@login_required
def new_from_incident(request: HttpRequest, incident_pk: int) -> HttpResponse:
    """提交服务请求 from an alert incident: a form prefilled from the incident, filed on behalf of the
    provincial centre and linked to the incident (tickets.incident_requests)."""
    if not incident_requests.may_file_from_incident(request.user):
        raise incident_requests.refusal()
    incident = incident_get(user=request.user, pk=incident_pk)
    if incident is None:
        raise Http404
    types = RequestType.objects.filter(is_active=True)
    code = request.POST.get("type") or request.GET.get("type") or incident_requests.DEFAULT_TYPE
    request_type = types.filter(code=code).first() or types.first()
    if request_type is None:
        raise Http404
    form = form_for_type(request_type, request.POST or None,
                         initial=incident_requests.incident_prefill(incident, request_type))
    if request.method == "POST" and form.is_valid():
        try:
            created = incident_requests.request_create_from_incident(
                requester=request.user, incident_pk=incident.pk, request_type=request_type,
                subject=form.cleaned_data["subject"], system=form.cleaned_data.get("system"), data=form.type_data(),
                submission_key=form.cleaned_data.get("submission_key", ""))
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            messages.success(request, _("Request %(number)s was sent to provincial operations.")
                             % {"number": created.number})
            return redirect("tickets:detail", pk=created.pk)
    return render(request, "tickets/new_from_incident.html", {
        "incident": incident, "types": types, "request_type": request_type, "form": form,
    }, status=400 if form.errors else 200)

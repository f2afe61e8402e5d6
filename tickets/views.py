"""Pages of the service-request desk. Thin: selectors to read, services to write, forms to parse."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from opsdesk.org.choices import Role, UnitKind
from opsdesk.org.models import ProductionSystem
from tickets import selectors, services
from tickets.api.views import attachment_response
from tickets.choices import FieldKind
from tickets.errors import action_label, describe_transition_error
from tickets.forms import ActionForm, AttachmentForm, CommentForm, form_for_type
from tickets.models import RequestType
from workflow.engine import TransitionError

__all__ = ["mine", "new", "new_of_type", "queue", "triage", "group_board", "detail", "act", "comment", "attach",
           "download"]

PAGE_SIZE = 50


def _page(request: HttpRequest, queryset):
    return Paginator(queryset.select_related("system"), PAGE_SIZE).get_page(request.GET.get("page"))


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
                   "known_incident_ids": list(incidents)})


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

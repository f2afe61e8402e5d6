"""Pages: my notifications (and my mobile number), the delivery log, the on-duty rosters.
Thin: parse, call a selector or service, render."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from notifications import roster, selectors, services
from notifications.events import about_links, event_label
from notifications.forms import LogFilterForm, MobileForm, ShiftForm
from notifications.models import DutyShift, Notification, NotificationStatus
from notifications.scoping import roster_units
from opsdesk import scoping
from opsdesk.org.choices import UnitKind

__all__ = ["mine", "log", "resend", "rosters", "roster_detail", "shift_delete"]

PAGE_SIZE = 50
ROSTER_DAYS = 14


def _page(request: HttpRequest, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    """A person's own notifications, and the mobile number they go to."""
    form = MobileForm(request.POST or None, initial={"mobile": request.user.mobile})
    if request.method == "POST" and form.is_valid():
        services.mobile_update(person=request.user, mobile=form.cleaned_data["mobile"])
        messages.success(request, _("Your mobile number is saved."))
        return redirect("notifications:mine")
    page = _described(request.user, _page(request, selectors.notifications_of(person=request.user)))
    return render(request, "notifications/mine.html", {"form": form, "page": page, "title": _("My notifications")},
                  status=400 if form.errors else 200)


def _described(user, page):
    """Each row's event in words and what it is about (a link when `user` may open it)."""
    links = about_links(user, page)
    for n in page:
        n.event_name = event_label(n.event)
        n.about_link = links.get(n.pk)
    return page


def _require_administrator(user) -> None:
    if not (user.is_authenticated and user.is_active and user.is_administrator):
        raise PermissionDenied(_("Only administrators may see this page."))


@login_required
def log(request: HttpRequest) -> HttpResponse:
    """The delivery log: every notification with its status, attempts and latency."""
    _require_administrator(request.user)
    form = LogFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    qs = selectors.notification_log(user=request.user, **{k: v for k, v in filters.items() if v})
    counts = {s: 0 for s in NotificationStatus.values}
    for row in qs.order_by().values("status").annotate(n=Count("pk")):
        counts[row["status"]] = row["n"]
    return render(request, "notifications/log.html", {
        "form": form, "page": _described(request.user, _page(request, qs)), "counts": counts, "statuses": NotificationStatus.choices,
        "query": request.GET.urlencode(), "title": _("Delivery log"),
    })


@login_required
@require_POST
def resend(request: HttpRequest, pk: int) -> HttpResponse:
    _require_administrator(request.user)
    notification = get_object_or_404(scoping.restrict(request.user, Notification.objects.all()), pk=pk)
    if notification.status in (NotificationStatus.QUEUED, NotificationStatus.SENDING, NotificationStatus.MERGED):
        messages.error(request, _("This notification is still on its way; it cannot be resent now."))
    else:
        services.notification_resend(notification=notification, actor=request.user)
        messages.success(request, _("The notification is queued again."))
    # Back to the page the button was on, but never to another site (an open redirect in a crafted link).
    # (An address, never a view name: redirect("\\") would try to reverse it.)
    target = request.POST.get("next", "")
    if target.startswith("/") and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                                  require_https=request.is_secure()):
        return HttpResponseRedirect(target)
    return redirect("notifications:log")


ROSTER_KINDS = (UnitKind.OPERATIONS, UnitKind.SUPPORT_GROUP, UnitKind.CITY, UnitKind.COUNTY, UnitKind.PROVINCE)


@login_required
def rosters(request: HttpRequest) -> HttpResponse:
    """Units that keep an on-duty roster, with who is on duty now."""
    units = roster_units(request.user).filter(kind__in=ROSTER_KINDS, is_active=True).order_by("path")
    rows = []
    for unit in units[:300]:
        regular, substitutes = roster.on_duty(unit)
        rows.append({"unit": unit, "on_duty": regular, "substitutes": substitutes})
    return render(request, "notifications/rosters.html", {"rows": rows, "title": _("On-duty rosters")})


@login_required
def roster_detail(request: HttpRequest, code: str) -> HttpResponse:
    unit = get_object_or_404(roster_units(request.user), code=code)
    can_edit = request.user.is_administrator
    form = ShiftForm(request.POST or None, unit=unit)
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied(_("Only administrators may edit rosters."))
        if form.is_valid():
            try:
                roster.shift_create(unit=unit, actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, _("The shift is added."))
                return redirect("notifications:roster", code=unit.code)
    now = timezone.now()
    start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    shifts = roster.shifts_for_unit(unit=unit, start=start, end=start + dt.timedelta(days=ROSTER_DAYS))
    regular, substitutes = roster.on_duty(unit, now)
    return render(request, "notifications/roster.html", {
        "unit": unit, "shifts": shifts, "form": form, "can_edit": can_edit, "on_duty": regular,
        "substitutes": substitutes, "receivers": roster.recipients_for_unit(unit, now), "now": now,
        "title": _("On-duty roster: %(unit)s") % {"unit": unit.name},
    }, status=400 if form.errors else 200)


@login_required
@require_POST
def shift_delete(request: HttpRequest, pk: int) -> HttpResponse:
    _require_administrator(request.user)
    shift = get_object_or_404(DutyShift.objects.select_related("unit"), pk=pk)
    code = shift.unit.code
    roster.shift_delete(shift=shift)
    messages.success(request, _("The shift is removed."))
    return redirect("notifications:roster", code=code)

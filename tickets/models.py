"""Service requests, their types, the append-only trail of what happened to them, who has held
them, comments and attachments.

Writes go through `tickets.services`; state changes only through `workflow.engine.perform()`, whose
audit recorder and subscribers are in `tickets.handlers`.
"""

from __future__ import annotations

import uuid
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from opsdesk.audit.history import append_only_trigger, track_configuration
from opsdesk.org.choices import UnitKind
from opsdesk.org.models import Unit
from tickets.fields import validate_field_list
from workflow.audit import AppendOnlyModel, AuditTrailIsAppendOnly  # the error re-exported for callers
from workflow.requests import OPEN_STATES, SUBMIT, TRANSITION_LABELS, RequestState, RequestWorkflow

__all__ = ["RequestType", "ServiceRequest", "RequestAccess", "RequestEvent", "Comment", "Attachment",
           "SavedView", "IncidentLink", "AuditTrailIsAppendOnly"]


@track_configuration()
class RequestType(models.Model):
    """A kind of request and the form a teller fills for it. `fields` is a list of
    {"name", "label", "kind", "required", "max_length"?, "choices"?: [[value, label], …]}."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    fields = models.JSONField(_("form fields"), default=list, blank=True)
    system_required = models.BooleanField(_("production system required"), default=False)
    dual_control = models.BooleanField(
        _("dual control"), default=False,
        help_text=_("A second county-support person must approve before the request leaves the county."),
    )
    position = models.PositiveSmallIntegerField(_("position"), default=100)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("request type")
        verbose_name_plural = _("request types")
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return gettext(self.name)

    def clean(self) -> None:
        validate_field_list(self.fields)


class ServiceRequestQuerySet(models.QuerySet):
    def open(self) -> ServiceRequestQuerySet:
        return self.exclude(state=RequestState.CLOSED)

    def held_by(self, unit) -> ServiceRequestQuerySet:
        return self.open().filter(holder_unit=unit)


class ServiceRequest(RequestWorkflow):
    request_type = models.ForeignKey(RequestType, verbose_name=_("type"), on_delete=models.PROTECT,
                                     related_name="requests")
    subject = models.CharField(_("subject"), max_length=200)
    system = models.ForeignKey("org.ProductionSystem", verbose_name=_("production system"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="requests")
    data = models.JSONField(_("form data"), default=dict, blank=True)
    requester = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("requester"), on_delete=models.PROTECT,
                                  related_name="service_requests")
    origin_unit = models.ForeignKey("org.Unit", verbose_name=_("outlet"), on_delete=models.PROTECT,
                                    related_name="requests_sent")
    # The origin's county and city centres, fixed when the request is filed: the route follows them.
    origin_county = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    origin_city = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("filed"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # The key the teller's form (or an API client's Idempotency-Key) sent with the filing: the same
    # submission arriving twice (a second click, a retry after a timeout) is filed once.
    submission_key = models.CharField(_("submission key"), max_length=64, blank=True, editable=False, default="",
                                      db_default="")

    objects = ServiceRequestQuerySet.as_manager()
    # Loaded with the row a transition locks: its conditions read the type, the route the origin's
    # units, and the answer to the caller shows the requester. Only relations a transition never
    # changes: the locked read re-checks its joins against a row another transition just committed,
    # and a join on the holder would then find no row at all (a 404 instead of a 409).
    transition_related = ("request_type", "origin_unit", "origin_county", "origin_city", "requester", "system")
    # The transition event carries where the request was before (its audit row's "from unit").
    transition_snapshot = ("holder_unit_id",)

    class Meta:
        verbose_name = _("service request")
        verbose_name_plural = _("service requests")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["requester", "submission_key"], name="tickets_sr_submitted_once",
                                    condition=~models.Q(submission_key="")),
        ]
        indexes = [
            # Queues: open requests held by a unit, oldest first.
            models.Index(fields=["holder_unit", "held_since"], name="tickets_sr_open_holder",
                         condition=~models.Q(state=RequestState.CLOSED)),
            # A teller's "my requests", newest first.
            models.Index(fields=["requester", "-created_at"], name="tickets_sr_requester"),
            # A centre's requests (scoping by origin), newest first.
            models.Index(fields=["origin_unit", "-created_at"], name="tickets_sr_origin"),
            models.Index(fields=["origin_county", "-created_at", "-id"], name="tickets_sr_origin_county"),
            models.Index(fields=["origin_city", "-created_at", "-id"], name="tickets_sr_origin_city"),
            # Everything newest first (administrators, the province's managers) and the capped counts.
            models.Index(fields=["-created_at", "-id"], name="tickets_sr_newest"),
            models.Index(fields=["state", "-created_at"], name="tickets_sr_state"),
            models.Index(fields=["answered_at"], name="tickets_sr_answered",
                         condition=models.Q(state=RequestState.ANSWERED)),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"

    @property
    def number(self) -> str:
        return self.number_of(self.pk)

    @staticmethod
    def number_of(pk: int | None) -> str:
        return f"SR{pk:07d}" if pk else "SR-"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def progress_steps(self) -> list[tuple[str, str]]:
        """The levels of the route, for the teller's progress bar: outlet, county, city, province, group."""
        return [(UnitKind.OUTLET, _("Outlet")), (UnitKind.COUNTY, _("County")), (UnitKind.CITY, _("City")),
                (UnitKind.OPERATIONS, _("Province")), (UnitKind.SUPPORT_GROUP, _("Support group"))]

    # --- the route: units the state machine hands the request to -------------------------------
    def county_unit(self):
        return self.origin_county

    def city_unit(self):
        return self.origin_city

    def operations_unit(self):
        root = self.origin_unit.ancestor_codes()[0]
        ops = (Unit.objects.filter(kind=UnitKind.OPERATIONS, path__startswith=f"{root}/", is_active=True)
               .order_by("depth", "path").first())
        if ops is None:
            raise ValidationError(_("The provincial centre has no operations department to receive this."))
        return ops


class RequestAccess(models.Model):
    """A unit that has held the request at some time; its people keep seeing it (see scoping)."""

    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="accesses")
    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    since = models.DateTimeField(default=timezone.now)
    # The request's `created_at`, copied: a unit's requests newest first read this index alone
    # (tickets.search), instead of joining every request the unit ever held to sort them.
    filed_at = models.DateTimeField(_("filed"))

    class Meta:
        verbose_name = _("request access")
        verbose_name_plural = _("request accesses")
        constraints = [models.UniqueConstraint(fields=["request", "unit"], name="tickets_access_once")]
        indexes = [models.Index(fields=["unit", "request"], name="tickets_access_unit"),
                   models.Index(fields=["unit", "-filed_at", "-request"], name="tickets_access_unit_filed")]

    def __str__(self) -> str:
        return f"{self.request_id} → {self.unit_id}"


class RequestEvent(AppendOnlyModel):
    """One step of a request's life: append-only. The timeline is built from these rows."""

    request = models.ForeignKey(ServiceRequest, on_delete=models.PROTECT, related_name="events")
    name = models.CharField(_("action"), max_length=40)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("at"), default=timezone.now)
    from_state = models.CharField(_("from state"), max_length=20, blank=True)
    from_unit = models.ForeignKey("org.Unit", verbose_name=_("from unit"), null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    to_state = models.CharField(_("to state"), max_length=20)
    to_unit = models.ForeignKey("org.Unit", verbose_name=_("to unit"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    comment = models.TextField(_("comment"), blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    version = models.PositiveIntegerField(_("version"))

    class Meta:
        verbose_name = _("request event")
        verbose_name_plural = _("request events")
        ordering = ["request", "version", "pk"]
        constraints = [models.UniqueConstraint(fields=["request", "version"], name="tickets_event_version_once")]
        # "Handled by me": the requests a person has acted on.
        indexes = [models.Index(fields=["actor", "request"], name="tickets_event_actor")]
        # Append-only in PostgreSQL itself, not only in the model's save()/delete().
        triggers = [append_only_trigger()]

    def __str__(self) -> str:
        return f"{self.request_id} v{self.version} {self.get_label()}"

    def get_label(self) -> str:
        return str(TRANSITION_LABELS.get(self.name, _("Submitted") if self.name == SUBMIT else self.name))

    @property
    def to_state_label(self) -> str:
        return RequestState(self.to_state).label


class Comment(models.Model):
    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT,
                               related_name="+")
    body = models.TextField(_("comment"))
    created_at = models.DateTimeField(_("written"), default=timezone.now)

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["request", "created_at"], name="tickets_comment_request")]

    def __str__(self) -> str:
        return f"{self.author}: {self.body[:40]}"


def attachment_path(instance: Attachment, filename: str) -> str:
    # Never the uploaded name on disk: a random name with the checked extension.
    suffix = PurePath(filename).suffix.lower()
    return f"requests/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{suffix}"


class Attachment(models.Model):
    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="attachments")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"),
                                    on_delete=models.PROTECT, related_name="+")
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveIntegerField(_("size (bytes)"))
    created_at = models.DateTimeField(_("uploaded"), default=timezone.now)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["request", "created_at"], name="tickets_attachment_request")]

    def __str__(self) -> str:
        return self.original_name


class SavedView(models.Model):
    """A person's named set of search filters (the query string of the request search)."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.CASCADE,
                              related_name="saved_request_views")
    name = models.CharField(_("name"), max_length=60)
    query = models.CharField(_("filters"), max_length=1000, blank=True)
    created_at = models.DateTimeField(_("saved"), default=timezone.now)

    class Meta:
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        ordering = ["name", "pk"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="tickets_savedview_name_once")]

    def __str__(self) -> str:
        return self.name


class IncidentLink(models.Model):
    """A request filed from an alert incident (告警转服务请求). Kept here, not in the alert app: the
    tickets app may know incidents (through `alerts.selectors`), the alert app never knows requests.
    The incident's page lists its requests through the `incident_requests` template tag."""

    request = models.OneToOneField(ServiceRequest, on_delete=models.CASCADE, related_name="incident_link")
    # A reference by name: no import of the alert app. Purging an old incident drops the link only.
    incident = models.ForeignKey("alerts.Incident", verbose_name=_("incident"), on_delete=models.CASCADE,
                                 related_name="+")
    linked_at = models.DateTimeField(_("linked"), default=timezone.now)

    class Meta:
        verbose_name = _("incident link")
        verbose_name_plural = _("incident links")
        indexes = [models.Index(fields=["incident", "request"], name="tickets_incident_link")]

    def __str__(self) -> str:
        return f"{self.request_id} ← incident {self.incident_id}"

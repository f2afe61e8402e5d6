"""Admin for supervisors: request types are edited here (their fields as rows of a form, with a
preview of the teller's form); requests and their audit trail are shown read-only — state changes
only happen through the workflow."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from notifications.models import SlaPolicy
from opsdesk.org.choices import UnitKind
from tickets.forms import RequestTypeAdminForm, form_for_type
from tickets.models import Attachment, Comment, RequestEvent, RequestType, ServiceRequest
from workflow.requests import SUBMIT, TRANSITION_LABELS


def step_label(name: str) -> str:
    """A step of the request's trail in words (the filing, or a transition's label)."""
    return RequestEvent(name=name).get_label()


@admin.register(RequestType)
class RequestTypeAdmin(admin.ModelAdmin):
    form = RequestTypeAdminForm
    change_form_template = "admin/tickets/requesttype/change_form.html"
    list_display = ("code", "display_name", "system_required", "dual_control", "position", "is_active")
    list_editable = ("position", "is_active")
    search_fields = ("code", "name")

    @admin.display(description=_("name"), ordering="name")
    def display_name(self, obj):
        return obj.display_name

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # The preview is the form as saved: what tellers see now.
        if obj is not None and obj.pk:
            context["preview_form"] = form_for_type(RequestType.objects.get(pk=obj.pk))
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class EventInline(admin.TabularInline):
    model = RequestEvent
    fields = ("version", "at", "step", "actor", "from_state", "from_unit", "to_state", "to_unit", "comment")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("version",)

    @admin.display(description=_("step"))
    def step(self, obj):
        return step_label(obj.name)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ServiceRequest)
class ServiceRequestAdmin(ReadOnlyAdmin):
    list_display = ("request_number", "subject", "request_type", "state", "holder_unit", "assignee", "origin_unit",
                    "held_since", "created_at")
    list_filter = ("state", "request_type", "level")
    search_fields = ("subject", "=id")
    date_hierarchy = "created_at"
    list_select_related = ("request_type", "holder_unit", "assignee", "origin_unit")
    raw_id_fields = ("requester", "origin_unit", "holder_unit", "assignee", "system")
    inlines = [EventInline]
    # The route's bookkeeping (the origin's centres, where an answer or a wait returns to) is the
    # workflow's; the two people of a dual-control escalation are shown by name.
    exclude = ("origin_county", "origin_city", "waiting_unit", "answer_unit", "prepared_by", "approved_by")
    readonly_fields = ("dual_control_people",)

    @admin.display(description=_("number"), ordering="pk")
    def request_number(self, obj):
        return obj.number

    @admin.display(description=_("dual control"))
    def dual_control_people(self, obj):
        people = [p for p in (obj.prepared_by, obj.approved_by) if p is not None]
        return " → ".join(str(p) for p in people) or "—"

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_active and request.user.is_staff


class StepFilter(admin.SimpleListFilter):
    title = _("step")
    parameter_name = "name"

    def lookups(self, request, model_admin):
        return [(name, step_label(name)) for name in (SUBMIT, *TRANSITION_LABELS)]

    def queryset(self, request, queryset):
        return queryset.filter(name=self.value()) if self.value() else queryset


@admin.register(RequestEvent)
class RequestEventAdmin(ReadOnlyAdmin):
    list_display = ("about_request", "version", "at", "step", "actor", "from_state", "to_state", "to_unit")
    list_filter = (StepFilter,)
    fields = ("about_request", "version", "at", "step", "actor", "from_state", "from_unit", "to_state", "to_unit",
              "comment", "details")
    readonly_fields = fields

    @admin.display(description=_("service request"), ordering="request")
    def about_request(self, obj):
        return obj.request.number

    @admin.display(description=_("step"), ordering="name")
    def step(self, obj):
        return step_label(obj.name)
    list_select_related = ("request", "actor", "to_unit")
    raw_id_fields = ("request",)


@admin.register(Comment)
class CommentAdmin(ReadOnlyAdmin):
    list_display = ("about_request", "author", "created_at")
    raw_id_fields = ("request",)

    @admin.display(description=_("service request"), ordering="request")
    def about_request(self, obj):
        return obj.request.number


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdmin):
    list_display = ("about_request", "original_name", "content_type", "size", "uploaded_by", "created_at")
    raw_id_fields = ("request",)

    @admin.display(description=_("service request"), ordering="request")
    def about_request(self, obj):
        return obj.request.number


# SLA policies are kept by notifications (with the clocks), but they are about request types and the
# levels requests are held at: edited here with pickers of those, writing the same codes.
REQUEST_LEVELS = (UnitKind.COUNTY, UnitKind.CITY, UnitKind.OPERATIONS, UnitKind.SUPPORT_GROUP)


class SlaPolicyForm(forms.ModelForm):
    request_type = forms.ChoiceField(label=_("request type"), required=False)
    level = forms.ChoiceField(label=_("level"), required=False,
                              choices=[("", _("Any level")), *[(k.value, k.label) for k in REQUEST_LEVELS]])

    class Meta:
        model = SlaPolicy
        fields = ["name", "request_type", "level", "first_response_minutes", "resolution_minutes",
                  "near_breach_percent", "auto_escalate", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("Any type")), *[(t.code, t.display_name) for t in RequestType.objects.order_by("position")]]
        current = self.instance.request_type
        if current and current not in {code for code, _label in choices}:
            choices.append((current, current))  # a type since deleted: kept visible, not silently dropped
        self.fields["request_type"].choices = choices
        level = self.instance.level
        if level and level not in {k.value for k in REQUEST_LEVELS}:  # set before the picker: kept
            self.fields["level"].choices = [*self.fields["level"].choices,
                                            (level, UnitKind(level).label if level in UnitKind.values else level)]


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    form = SlaPolicyForm
    list_display = ["name", "type_name", "level", "first_response_minutes", "resolution_minutes",
                    "near_breach_percent", "auto_escalate", "is_active"]
    list_filter = ["is_active", "auto_escalate", "level"]

    @admin.display(description=_("request type"), ordering="request_type")
    def type_name(self, obj):
        if not obj.request_type:
            return _("Any type")
        found = RequestType.objects.filter(code=obj.request_type).first()
        return found.display_name if found else obj.request_type

"""Admin: the SMS log (read-only here, never deleted), message templates, duty shifts, and the runs
of escalation chains and SLA clocks. The policies are edited beside what they are about, with pickers
of the words there: SLA policies (per request type and level) in tickets/admin.py, escalation chains
(per incident severity) in alerts/admin.py."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from notifications.events import event_choices, event_label
from notifications.models import (
    DutyShift,
    EscalationRun,
    Notification,
    NotificationStatus,
    NotificationTemplate,
    SlaClock,
)
from notifications.services import notification_resend


class EventFilter(admin.SimpleListFilter):
    """The events by their names, not their codes."""

    title = _("event")
    parameter_name = "event"

    def lookups(self, request, model_admin):
        return event_choices(Notification.objects.order_by().values_list("event", flat=True).distinct())

    def queryset(self, request, queryset):
        return queryset.filter(event=self.value()) if self.value() else queryset


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "event_name", "recipient", "address", "status", "attempts", "digest_count", "sent_at"]
    list_filter = ["status", "channel", EventFilter, "urgent"]
    search_fields = ["address", "text", "recipient__username", "recipient__display_name", "idempotency_key"]
    # What it is about in words, not its content type and id; the send lock is the delivery's business.
    readonly_fields = [*(f.name for f in Notification._meta.fields
                         if f.name not in ("id", "content_type", "object_id", "claimed_until")), "about"]
    exclude = ["content_type", "object_id", "claimed_until"]

    @admin.display(description=_("about"))
    def about(self, obj):
        return f"{obj.content_type.name} #{obj.object_id}" if obj.content_type_id else "—"
    date_hierarchy = "created_at"
    actions = ["resend"]

    @admin.display(description=_("event"), ordering="event")
    def event_name(self, obj):
        return event_label(obj.event)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        # The SMS log is the record of what was sent to whom: kept, not tidied away.
        return False

    @admin.action(description=_("Resend the selected notifications"))
    def resend(self, request, queryset):
        count = 0
        for notification in queryset.exclude(status__in=[NotificationStatus.QUEUED, NotificationStatus.SENDING,
                                                         NotificationStatus.MERGED]):
            notification_resend(notification=notification, actor=request.user)
            count += 1
        self.message_user(request, _("%(count)d notifications queued again.") % {"count": count}, messages.SUCCESS)


@admin.register(NotificationTemplate)
class NotificationTemplateAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "updated_at"]
    search_fields = ["code", "name", "body"]


@admin.register(DutyShift)
class DutyShiftAdmin(admin.ModelAdmin):
    list_display = ["unit", "duty", "person", "starts_at", "ends_at", "is_substitute"]
    list_filter = ["duty", "is_substitute", "unit__kind"]
    search_fields = ["unit__name", "person__username", "person__display_name"]
    autocomplete_fields = ["unit", "person"]


@admin.register(EscalationRun)
class EscalationRunAdmin(admin.ModelAdmin):
    list_display = ["chain", "about", "started_at", "next_step", "next_at", "stopped_at", "stop_reason"]
    readonly_fields = ["chain", "about", "started_at", "next_step", "next_at", "stopped_at", "stop_reason"]
    fields = readonly_fields

    def has_add_permission(self, request) -> bool:
        return False  # a chain is started by an incident, not by hand

    @admin.display(description=_("escalation policy"))
    def chain(self, obj):
        return obj.policy

    @admin.display(description=_("about"))
    def about(self, obj):
        return f"{obj.content_type.name} #{obj.object_id}"


@admin.register(SlaClock)
class SlaClockAdmin(admin.ModelAdmin):
    list_display = ["request_id", "policy", "started_at", "paused_at", "responded_at", "stopped_at", "escalated_at"]
    # The flags of what was already announced and the level last seen are the clock's own bookkeeping.
    fields = ["request_id", "policy", "started_at", "paused_at", "paused_seconds", "responded_at", "stopped_at",
              "escalated_at", "escalation_error"]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False  # a clock starts with its request

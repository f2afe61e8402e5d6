"""Admin: the SMS log (read-only here, never deleted), message templates, duty shifts, escalation and
SLA policies with their runs and clocks."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from notifications.models import (
    DutyShift,
    EscalationPolicy,
    EscalationRun,
    EscalationStep,
    Notification,
    NotificationStatus,
    NotificationTemplate,
    SlaClock,
    SlaPolicy,
)
from notifications.services import notification_resend


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "event", "recipient", "address", "status", "attempts", "digest_count", "sent_at"]
    list_filter = ["status", "channel", "event", "urgent"]
    search_fields = ["address", "text", "recipient__username", "recipient__display_name", "idempotency_key"]
    readonly_fields = [f.name for f in Notification._meta.fields if f.name != "id"]
    date_hierarchy = "created_at"
    actions = ["resend"]

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
    list_display = ["unit", "person", "starts_at", "ends_at", "is_substitute"]
    list_filter = ["is_substitute", "unit__kind"]
    search_fields = ["unit__name", "person__username", "person__display_name"]
    autocomplete_fields = ["unit", "person"]


class EscalationStepInline(admin.TabularInline):
    model = EscalationStep
    extra = 1


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(admin.ModelAdmin):
    list_display = ["name", "severities", "is_active"]
    inlines = [EscalationStepInline]


@admin.register(EscalationRun)
class EscalationRunAdmin(admin.ModelAdmin):
    list_display = ["policy", "content_type", "object_id", "started_at", "next_step", "next_at", "stopped_at",
                    "stop_reason"]
    readonly_fields = [f.name for f in EscalationRun._meta.fields if f.name != "id"]


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = ["name", "request_type", "level", "first_response_minutes", "resolution_minutes",
                    "near_breach_percent", "auto_escalate", "is_active"]
    list_filter = ["is_active", "auto_escalate", "level"]


@admin.register(SlaClock)
class SlaClockAdmin(admin.ModelAdmin):
    list_display = ["request_id", "policy", "started_at", "paused_at", "responded_at", "stopped_at", "escalated_at"]
    readonly_fields = [f.name for f in SlaClock._meta.fields if f.name != "id"]

"""Admin for supervisors: request types are edited here (fields without code); requests and their
audit trail are shown read-only — state changes only happen through the workflow."""

from django.contrib import admin

from tickets.models import Attachment, Comment, RequestEvent, RequestType, ServiceRequest


@admin.register(RequestType)
class RequestTypeAdmin(admin.ModelAdmin):
    list_display = ("code", "display_name", "system_required", "dual_control", "position", "is_active")
    list_editable = ("position", "is_active")
    search_fields = ("code", "name")


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class EventInline(admin.TabularInline):
    model = RequestEvent
    fields = ("version", "at", "name", "actor", "from_state", "from_unit", "to_state", "to_unit", "comment")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("version",)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ServiceRequest)
class ServiceRequestAdmin(ReadOnlyAdmin):
    list_display = ("number", "subject", "request_type", "state", "holder_unit", "assignee", "origin_unit",
                    "held_since", "created_at")
    list_filter = ("state", "request_type", "level")
    search_fields = ("subject", "=id")
    date_hierarchy = "created_at"
    list_select_related = ("request_type", "holder_unit", "assignee", "origin_unit")
    raw_id_fields = ("requester", "origin_unit", "holder_unit", "assignee", "system")
    inlines = [EventInline]

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_active and request.user.is_staff


@admin.register(RequestEvent)
class RequestEventAdmin(ReadOnlyAdmin):
    list_display = ("request", "version", "at", "name", "actor", "from_state", "to_state", "to_unit")
    list_filter = ("name",)
    list_select_related = ("request", "actor", "to_unit")
    raw_id_fields = ("request",)


@admin.register(Comment)
class CommentAdmin(ReadOnlyAdmin):
    list_display = ("request", "author", "created_at")
    raw_id_fields = ("request",)


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdmin):
    list_display = ("request", "original_name", "content_type", "size", "uploaded_by", "created_at")
    raw_id_fields = ("request",)

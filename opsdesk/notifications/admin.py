from django.contrib import admin

from opsdesk.notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "event", "recipient", "address", "status", "attempts", "sent_at"]
    list_filter = ["status", "channel", "event"]
    search_fields = ["address", "text", "recipient__username", "recipient__display_name"]
    readonly_fields = [f.name for f in Notification._meta.fields if f.name != "id"]
    date_hierarchy = "created_at"

"""Second-factor devices in the admin: the security administrator sees who has one and resets it;
nobody reads a key or a QR code, nor adds a device for somebody else (that would be a way to act as them)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from opsdesk.org.duties import may_change_person
from opsdesk.org.two_factor import reset_two_factor

__all__ = ["RESET_PERMISSION", "TwoFactorResetAdminMixin", "DeviceAdmin", "install_device_admin"]

# The security duty (opsdesk/org/duties.py answers it for the otp apps).
RESET_PERMISSION = "otp_totp.delete_totpdevice"


@admin.action(description=_("Reset two-factor devices (lost phone)"), permissions=["reset_two_factor"])
def reset_two_factor_devices(modeladmin, request, queryset):
    people = [person for person in queryset if may_change_person(request.user, person)]
    for person in people:
        reset_two_factor(person=person)
    modeladmin.message_user(request, gettext(
        "Two-factor devices reset for %(count)d people: they set up a new authenticator at their next login.")
        % {"count": len(people)}, messages.SUCCESS)


class TwoFactorResetAdminMixin:
    """For the people admin: the reset action, offered only to holders of RESET_PERMISSION."""

    actions = [reset_two_factor_devices]

    def has_reset_two_factor_permission(self, request) -> bool:
        return request.user.has_perm(RESET_PERMISSION)


class ConfirmedFilter(admin.BooleanFieldListFilter):
    """django-otp's field has no translatable name."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = _("confirmed")


class DeviceAdmin(admin.ModelAdmin):
    list_display = ("user", "name", "is_confirmed", "created_at", "last_used_at")
    list_filter = (("confirmed", ConfirmedFilter),)
    search_fields = ("user__username", "user__display_name")
    fields = list_display
    readonly_fields = list_display

    @admin.display(description=_("confirmed"), boolean=True, ordering="confirmed")
    def is_confirmed(self, obj) -> bool:
        return obj.confirmed
    list_select_related = ("user",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


def install_device_admin(site: admin.AdminSite) -> None:
    """Replace django-otp's device admins (which show keys and QR codes and add devices) by DeviceAdmin."""
    for model in (TOTPDevice, StaticDevice):
        if site.is_registered(model):
            site.unregister(model)
        site.register(model, DeviceAdmin)

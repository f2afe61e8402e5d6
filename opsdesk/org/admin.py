from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from opsdesk.org.admin_two_factor import TwoFactorResetAdminMixin
from opsdesk.org.duties import may_change_person
from opsdesk.org.forms import PersonChangeForm, PersonCreationForm
from opsdesk.org.models import Host, ProductionSystem, Unit, User


class UnderUnitFilter(admin.SimpleListFilter):
    """Tree-aware filter: everything under a chosen city or county (one prefix query)."""

    title = _("under unit")
    parameter_name = "under"

    def lookups(self, request, model_admin):
        return [(u.code, "— " * u.depth + u.name) for u in Unit.objects.filter(depth__lte=2).order_by("path")]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        root = Unit.objects.filter(code=self.value()).first()
        if root is None:
            return queryset.none()
        field = "path" if queryset.model is Unit else "unit__path"
        return queryset.filter(**{f"{field}__startswith": root.path})


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["indented_name", "code", "kind", "parent", "people_count", "is_active"]
    list_filter = ["kind", "is_active", UnderUnitFilter]
    search_fields = ["code", "name"]
    autocomplete_fields = ["parent"]
    readonly_fields = ["path", "depth"]
    list_per_page = 100

    @admin.display(description=_("name"), ordering="path")
    def indented_name(self, obj: Unit):
        return format_html('<span style="padding-left:{}em">{}</span>', obj.depth * 1.5, obj.name)

    @admin.display(description=_("people"))
    def people_count(self, obj: Unit) -> int:
        return obj.people.count()

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("parent")


@admin.register(User)
class PersonAdmin(TwoFactorResetAdminMixin, UserAdmin):
    form = PersonChangeForm
    add_form = PersonCreationForm
    list_display = ["username", "display_name", "unit", "roles_display", "mobile", "is_active"]
    list_filter = ["is_active", "is_superuser", "unit__kind", UnderUnitFilter]
    search_fields = ["username", "display_name", "mobile", "unit__name", "unit__code"]
    autocomplete_fields = ["unit"]
    list_select_related = ["unit"]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Person"), {"fields": ("display_name", "unit", "mobile", "roles", "email")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "display_name", "unit", "mobile", "roles",
                                                 "password1", "password2")}),
    )

    # Who may change what is answered by the backend from opsdesk/org/duties.py (accounts: the security
    # administrator); on top of that nobody changes their own account here: no one gives themselves a
    # role, a flag or a permission (the break-glass superuser neither).
    def has_change_permission(self, request, obj=None) -> bool:
        return super().has_change_permission(request, obj) and (obj is None or may_change_person(request.user, obj))

    def has_delete_permission(self, request, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and (obj is None or may_change_person(request.user, obj))

    @admin.display(description=_("roles"))
    def roles_display(self, obj: User) -> str:
        from opsdesk.org.choices import Role

        return "、".join(str(Role(r).label) for r in obj.roles if r in Role.values)


class HostInline(admin.TabularInline):
    model = Host
    extra = 0


@admin.register(ProductionSystem)
class ProductionSystemAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "owner_group", "is_active"]
    list_filter = ["owner_group", "is_active"]
    search_fields = ["code", "name"]
    inlines = [HostInline]


@admin.register(Host)
class HostAdmin(admin.ModelAdmin):
    list_display = ["hostname", "ip_address", "os", "system", "is_active"]
    list_filter = ["system", "os", "is_active"]
    search_fields = ["hostname", "ip_address"]
    list_select_related = ["system"]

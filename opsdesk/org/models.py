"""The organisation: a tree of units, the people in them and the production-system catalogue.

The unit tree is a materialised path built from unit codes ("GD/GZ/GZ-TH/GZ-TH-001/"), so "is X
inside Y" is a string prefix test and "everything under Y" is one indexed LIKE 'path%' query, at
any depth and at 20,000 tellers, with no recursion.
"""

from __future__ import annotations

import re
from datetime import timedelta

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from opsdesk.audit.history import track_configuration
from opsdesk.org.choices import ROLE_UNIT_KINDS, Role, UnitKind

__all__ = ["Unit", "User", "ProductionSystem", "Host", "normalize_mobile", "validate_mobile"]

PATH_SEPARATOR = "/"

unit_code_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$",
    _("Use 1–32 letters, digits, '-' or '_' for a unit code."),
)

# ASCII digits only: \d would take "１３８…" or "١٣٨…", which no SMS gateway dials.
MOBILE_RE = re.compile(r"^1[3-9][0-9]{9}\Z")


def normalize_mobile(value: str) -> str:
    """Strip spaces, dashes and a +86/0086 prefix; mainland mobile numbers have 11 digits."""
    digits = re.sub(r"[\s\-()]", "", value or "")
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            digits = digits[len(prefix) :]
    return digits


def validate_mobile(value: str) -> None:
    if value and not MOBILE_RE.match(normalize_mobile(value)):
        raise ValidationError(
            _("Enter a valid mainland mobile number: 11 digits starting with 1 (for example 13800138000)."),
            code="invalid_mobile",
        )


class UnitQuerySet(models.QuerySet):
    def under(self, unit: Unit, *, include_self: bool = True) -> UnitQuerySet:
        """Every unit in the subtree of `unit` (one indexed prefix query)."""
        qs = self.filter(path__startswith=unit.path)
        return qs if include_self else qs.exclude(pk=unit.pk)


@track_configuration()
class Unit(models.Model):
    code = models.CharField(_("code"), max_length=32, unique=True, validators=[unit_code_validator])
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=UnitKind.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent unit"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="children",
    )
    # Materialised path of codes, maintained by save(); never edited by hand.
    path = models.CharField(_("path"), max_length=400, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(_("depth"), default=0, editable=False)
    is_active = models.BooleanField(_("active"), default=True)

    objects = UnitQuerySet.as_manager()

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        ordering = ["path"]
        # `path` is unique, for which Django also creates a varchar_pattern_ops index on PostgreSQL:
        # that one serves LIKE 'prefix%' in any collation.
        indexes = [models.Index(fields=["kind", "path"], name="org_unit_kind_path")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        new_path = self.build_path(self.parent, self.code)
        old_path = None
        if self.pk:
            old_path = Unit.objects.filter(pk=self.pk).values_list("path", flat=True).first()
        self.path = new_path
        self.depth = new_path.count(PATH_SEPARATOR) - 1
        super().save(*args, **kwargs)
        if old_path and old_path != new_path:
            self._rewrite_descendant_paths(old_path, new_path)

    @staticmethod
    def build_path(parent: Unit | None, code: str) -> str:
        return (parent.path if parent else "") + code + PATH_SEPARATOR

    def clean(self) -> None:
        if self.parent_id and self.pk and self.parent.path.startswith(self.path):
            raise ValidationError({"parent": _("A unit cannot be placed under itself or its own descendants.")})

    @staticmethod
    def _rewrite_descendant_paths(old_path: str, new_path: str) -> None:
        from django.db.models import Value
        from django.db.models.functions import Concat, Substr

        depth_change = new_path.count(PATH_SEPARATOR) - old_path.count(PATH_SEPARATOR)
        Unit.objects.filter(path__startswith=old_path).exclude(path=new_path).update(
            path=Concat(Value(new_path), Substr("path", len(old_path) + 1)),
            depth=models.F("depth") + depth_change,
        )

    def is_inside(self, other: Unit) -> bool:
        """True when this unit is `other` or lies anywhere below it."""
        return self.path.startswith(other.path)

    def ancestor_codes(self) -> list[str]:
        return self.path.rstrip(PATH_SEPARATOR).split(PATH_SEPARATOR)

    def ancestors(self, *, include_self: bool = True) -> UnitQuerySet:
        codes = self.ancestor_codes()
        if not include_self:
            codes = codes[:-1]
        return Unit.objects.filter(code__in=codes).order_by("depth")

    def nearest(self, kind: str) -> Unit | None:
        """The closest unit of `kind` at or above this one (e.g. an outlet's county)."""
        return self.nearest_of(kind)[kind]

    def nearest_of(self, *kinds: str) -> dict[str, Unit | None]:
        """nearest() for several kinds in one query: {kind: the closest unit of it, or None}."""
        found: dict[str, Unit | None] = dict.fromkeys(kinds)
        for unit in self.ancestors().filter(kind__in=kinds).order_by("depth"):
            found[unit.kind] = unit  # deeper ones come later: the closest wins
        return found


@track_configuration(fields=["username", "unit", "roles", "is_active", "is_staff", "is_superuser"],
                     model_name="PersonAccessEvent")
class User(AbstractUser):
    display_name = models.CharField(_("name"), max_length=60, blank=True)
    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), null=True, blank=True, on_delete=models.PROTECT, related_name="people"
    )
    mobile = models.CharField(_("mobile number"), max_length=20, blank=True, validators=[validate_mobile])
    roles = models.JSONField(_("roles"), default=list, blank=True)
    # Set by every set_password (the change page, the admin, create_user); the expiry
    # (OPSDESK_PASSWORD_MAX_AGE_DAYS) counts from it. Empty: no local password to expire (directory login).
    password_changed_at = models.DateTimeField(_("password changed at"), null=True, blank=True, editable=False)

    objects = UserManager()

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        indexes = [models.Index(fields=["unit", "is_active"], name="org_user_unit_active")]

    def __str__(self) -> str:
        return self.name_from(self.display_name, self.first_name, self.last_name, self.username)

    @staticmethod
    def name_from(display_name: str, first_name: str, last_name: str, username: str) -> str:
        """How a person is named to others, from those columns alone (lists read them as plain values)."""
        return display_name or f"{first_name} {last_name}".strip() or username

    def set_password(self, raw_password) -> None:
        super().set_password(raw_password)
        self.password_changed_at = timezone.now()

    def password_expired(self, max_age_days: int) -> bool:
        """Older than `max_age_days` (0 = never expires); a person without a local password never is."""
        if not max_age_days or self.password_changed_at is None or not self.has_usable_password():
            return False
        return timezone.now() - self.password_changed_at > timedelta(days=max_age_days)

    def has_role(self, *roles: str) -> bool:
        return any(role in self.roles for role in roles)

    @property
    def is_administrator(self) -> bool:
        """Sees everything (scoping) and writes the configuration: the system duty
        (opsdesk/org/duties.py). The security and audit administrators are not administrators here."""
        return self.is_superuser or self.has_role(Role.ADMINISTRATOR, Role.SYSTEM_ADMIN)

    def clean(self) -> None:
        super().clean()
        if self.mobile:
            self.mobile = normalize_mobile(self.mobile)
        unknown = [r for r in self.roles if r not in Role.values]
        if unknown:
            raise ValidationError({"roles": _("Unknown roles: %(roles)s") % {"roles": ", ".join(unknown)}})
        if self.roles and self.unit_id is None and not self.is_superuser:
            raise ValidationError({"unit": _("A person with roles must belong to a unit.")})
        if self.unit_id:
            wrong = [r for r in self.roles if self.unit.kind not in ROLE_UNIT_KINDS[r]]
            if wrong:
                raise ValidationError(
                    {
                        "roles": _("These roles do not fit a unit of kind “%(kind)s”: %(roles)s")
                        % {
                            "kind": self.unit.get_kind_display(),
                            "roles": ", ".join(str(Role(r).label) for r in wrong),
                        }
                    }
                )


@track_configuration()
class ProductionSystem(models.Model):
    code = models.CharField(_("code"), max_length=32, unique=True, validators=[unit_code_validator])
    name = models.CharField(_("name"), max_length=100, unique=True)
    owner_group = models.ForeignKey(
        Unit, verbose_name=_("owning support group"), on_delete=models.PROTECT, related_name="systems",
        limit_choices_to={"kind": UnitKind.SUPPORT_GROUP},
    )
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("production system")
        verbose_name_plural = _("production systems")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.owner_group_id and self.owner_group.kind != UnitKind.SUPPORT_GROUP:
            raise ValidationError({"owner_group": _("The owner must be a support group.")})


@track_configuration()
class Host(models.Model):
    # Stored lower-case: alert e-mails write host names in any case.
    hostname = models.CharField(_("host name"), max_length=255, unique=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    os = models.CharField(_("operating system"), max_length=60, blank=True)
    system = models.ForeignKey(
        ProductionSystem, verbose_name=_("production system"), on_delete=models.PROTECT, related_name="hosts"
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("host")
        verbose_name_plural = _("hosts")
        ordering = ["hostname"]
        indexes = [models.Index(fields=["ip_address"], name="org_host_ip")]

    def __str__(self) -> str:
        return self.hostname

    def save(self, *args, **kwargs) -> None:
        self.hostname = self.hostname.strip().lower()
        super().save(*args, **kwargs)

from __future__ import annotations

import copy

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from opsdesk.org.choices import Role
from opsdesk.org.models import Host, ProductionSystem, Unit, User, normalize_mobile, validate_mobile
from opsdesk.org.privacy import visible_mobile

__all__ = ["UnitSerializer", "PersonSerializer", "MeSerializer", "ProductionSystemSerializer", "HostSerializer"]


class UnitSerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="code", queryset=Unit.objects.all(), allow_null=True)

    class Meta:
        model = Unit
        fields = ["id", "code", "name", "kind", "parent", "path", "depth", "is_active"]
        read_only_fields = ["path", "depth"]

    def validate_parent(self, value: Unit | None) -> Unit | None:
        # A parent inside the unit's own subtree would make a cycle (and rewrite every path under it).
        if value is not None and self.instance is not None and value.path.startswith(self.instance.path):
            raise serializers.ValidationError(_("A unit cannot be placed under itself or its own descendants."))
        return value


class PersonSerializer(serializers.ModelSerializer):
    unit = serializers.SlugRelatedField(slug_field="code", queryset=Unit.objects.all(), allow_null=True)
    roles = serializers.ListField(child=serializers.ChoiceField(choices=Role.choices), default=list)

    class Meta:
        model = User
        fields = ["id", "username", "display_name", "unit", "mobile", "roles", "is_active"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        # Personal data: whole only for the person's own chain (opsdesk.org.privacy), masked otherwise.
        request = self.context.get("request")
        data["mobile"] = visible_mobile(getattr(request, "user", None), instance)
        return data

    def validate_mobile(self, value: str) -> str:
        from django.core.exceptions import ValidationError as DjangoValidationError

        try:
            validate_mobile(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None
        return normalize_mobile(value)

    def validate(self, attrs):
        from django.core.exceptions import ValidationError as DjangoValidationError

        # Validate the person as they will be after this change (role ↔ unit fit, mobile).
        if self.instance is not None:
            instance = copy.copy(self.instance)
            for name, value in attrs.items():
                setattr(instance, name, value)
        else:
            instance = User(**attrs)
        try:
            instance.clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        return attrs


class MeSerializer(PersonSerializer):
    """What a person sees and may change about themselves: only the mobile number."""

    # Declared fields ignore Meta.read_only_fields, so restate them read-only here.
    unit = serializers.SlugRelatedField(slug_field="code", read_only=True)
    roles = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta(PersonSerializer.Meta):
        read_only_fields = ["id", "username", "display_name", "unit", "roles", "is_active"]


class ProductionSystemSerializer(serializers.ModelSerializer):
    owner_group = serializers.SlugRelatedField(slug_field="code", queryset=Unit.objects.all())

    class Meta:
        model = ProductionSystem
        fields = ["id", "code", "name", "owner_group", "description", "is_active"]

    def validate_owner_group(self, value: Unit) -> Unit:
        if value.kind != "support_group":
            raise serializers.ValidationError(_("The owner must be a support group."))
        return value


class HostSerializer(serializers.ModelSerializer):
    system = serializers.SlugRelatedField(slug_field="code", queryset=ProductionSystem.objects.all())

    class Meta:
        model = Host
        fields = ["id", "hostname", "ip_address", "os", "system", "is_active"]

    def validate_hostname(self, value: str) -> str:
        # Stored lower-case (Host.save), so "CORE-DB01" clashes with "core-db01": say so here, not as a 500.
        value = value.strip().lower()
        clash = Host.objects.filter(hostname=value)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise serializers.ValidationError(_("A host with this name already exists."))
        return value

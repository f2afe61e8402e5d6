"""Filters of the request list: state, type, system, unit, dates, holder, text search."""

from __future__ import annotations

import django_filters
from django.db.models import Q

from opsdesk.inputs import ascii_int
from opsdesk.org.models import Unit
from tickets.models import ServiceRequest
from workflow.requests import OPEN_STATES, RequestState

__all__ = ["ServiceRequestFilter"]


class ServiceRequestFilter(django_filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(choices=RequestState.choices)
    open = django_filters.BooleanFilter(method="filter_open", label="Only open requests")
    mine = django_filters.BooleanFilter(method="filter_mine", label="Only requests I filed")
    type = django_filters.CharFilter(field_name="request_type__code")
    system = django_filters.NumberFilter(field_name="system_id")
    unit = django_filters.NumberFilter(method="filter_unit", label="Filed anywhere under this unit (id)")
    holder = django_filters.NumberFilter(field_name="holder_unit_id", label="Held by this unit (id)")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    q = django_filters.CharFilter(method="filter_text", label="Text in subject or number")
    ordering = django_filters.OrderingFilter(fields=(("created_at", "created_at"), ("held_since", "held_since")))

    class Meta:
        model = ServiceRequest
        fields = []

    def filter_open(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(state__in=OPEN_STATES) if value else queryset.filter(state=RequestState.CLOSED)

    def filter_mine(self, queryset, name, value):
        if value is None:
            return queryset
        user = getattr(self.request, "user", None)
        return queryset.filter(requester=user) if value else queryset.exclude(requester=user)

    def filter_unit(self, queryset, name, value):
        unit = Unit.objects.filter(pk=value).first()
        if unit is None:
            return queryset.none()
        return queryset.filter(origin_unit__path__startswith=unit.path)

    def filter_text(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        q = Q(subject__icontains=value)
        # "SR000123" or "123" finds request 123; "SR²" or "①" is text (ASCII digits only).
        number = ascii_int(value.upper().removeprefix("SR"), minimum=1)
        if number is not None:
            q |= Q(pk=number)
        return queryset.filter(q)

"""Summary tables behind the statistics pages, kept current by the workflow.

Every row is a daily counter keyed by the dimensions a report groups or filters by. The workflow
counts each transition in its own transaction (`services.record_request_event`,
`services.record_incident_events`): with in-process tasks straight into these tables; with workers, as
one `PendingTally` row that a worker folds in moments after the commit (`services.tallies_fold`), so
that busy requests never queue behind one another on the same counter rows; `manage.py rebuild_report_summaries` recomputes them all from
the audit trails (back-fill, and the truth check). Nothing else writes here.

Days are local days (settings.TIME_ZONE). Durations are seconds.
"""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["RequestCounters", "CountyDaily", "OutletDaily", "CityDaily", "SystemDaily", "UnitWorkDaily", "PersonDaily",
           "HandlingDaily", "ProvinceHandlingDaily", "IncidentDaily", "SystemIncidentDaily", "DURATION_BUCKETS", "REQUEST_COUNTERS", "WORK_COUNTERS",
           "INCIDENT_COUNTERS", "DAY_GRAIN", "MONTH_GRAIN", "PendingTally"]

# Every counter is kept twice: per day (grain "d") and per calendar month (grain "m", `day` = the
# first of the month). A range reads whole months from the month rows and only its ragged ends from
# the day rows, so a year is a few thousand rows whatever the volume.
DAY_GRAIN, MONTH_GRAIN = "d", "m"
GRAIN_CHOICES = ((DAY_GRAIN, _("day")), (MONTH_GRAIN, _("month")))

# Upper edges (seconds) of the duration histogram buckets; the last bucket is open-ended.
MINUTE, HOUR, DAY = 60, 3600, 86400
DURATION_BUCKETS = (5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE, 45 * MINUTE, HOUR, 90 * MINUTE, 2 * HOUR,
                    3 * HOUR, 4 * HOUR, 6 * HOUR, 8 * HOUR, 12 * HOUR, DAY, 2 * DAY, 3 * DAY, 5 * DAY, 7 * DAY,
                    14 * DAY, 30 * DAY)
BUCKET_COUNT = len(DURATION_BUCKETS) + 1

# Counters of the request flow, per origin (county or outlet) and request type.
REQUEST_COUNTERS = (
    "sent",
    "received_county", "received_city", "received_province",
    "answered_county", "answered_city", "answered_province",
    "escalated_county", "escalated_city",
    "returned_county", "returned_city", "returned_province",
    "closed", "closed_county", "closed_city", "closed_province",
    "rating_count", "rating_sum",
)
# Counters of the work done by a unit or a person.
WORK_COUNTERS = ("received", "handled", "transitions", "transfers_in", "transfers_out", "held_seconds",
                 "rating_count", "rating_sum")
INCIDENT_COUNTERS = ("opened", "reopened", "acknowledged", "ack_seconds", "resolved", "resolve_seconds")


def _counter_fields(names):
    return {name: models.BigIntegerField(default=0) for name in names}


class RequestCounters(models.Model):
    day = models.DateField(_("day"))
    grain = models.CharField(max_length=1, choices=GRAIN_CHOICES, default=DAY_GRAIN)
    city = models.ForeignKey("org.Unit", on_delete=models.CASCADE, related_name="+")
    county = models.ForeignKey("org.Unit", on_delete=models.CASCADE, related_name="+")
    request_type = models.ForeignKey("tickets.RequestType", on_delete=models.CASCADE, related_name="+")
    locals().update(_counter_fields(REQUEST_COUNTERS))

    class Meta:
        abstract = True


class CountyDaily(RequestCounters):
    """The request flow of one origin county and request type on one day."""

    class Meta:
        verbose_name = _("daily requests per county")
        verbose_name_plural = _("daily requests per county")
        constraints = [models.UniqueConstraint(fields=["grain", "day", "county", "request_type"], name="reports_county_key")]
        indexes = [models.Index(fields=["grain", "day", "city"], name="reports_county_day_city"),
                   models.Index(fields=["county", "grain", "day"], name="reports_county_county_day")]

    def __str__(self) -> str:
        return f"{self.grain} {self.day}"



class OutletDaily(RequestCounters):
    """The same counters per outlet, read when a county is drilled into."""

    outlet = models.ForeignKey("org.Unit", on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("daily requests per outlet")
        verbose_name_plural = _("daily requests per outlet")
        constraints = [models.UniqueConstraint(fields=["grain", "day", "outlet", "request_type"], name="reports_outlet_key")]
        indexes = [models.Index(fields=["county", "grain", "day"], name="reports_outlet_county_day")]

    def __str__(self) -> str:
        return f"{self.grain} {self.day}"



class CityDaily(models.Model):
    """The request flow of one origin city per day, all request types together: the roll-up of its
    counties' rows that the province and a city read (units, trends, comparison), so a year for the
    whole province is 21 cities × 365 days instead of every county × request type × day."""

    day = models.DateField(_("day"))
    grain = models.CharField(max_length=1, choices=GRAIN_CHOICES, default=DAY_GRAIN)
    city = models.ForeignKey("org.Unit", on_delete=models.CASCADE, related_name="+")
    locals().update(_counter_fields(REQUEST_COUNTERS))

    class Meta:
        verbose_name = _("daily requests per city")
        verbose_name_plural = _("daily requests per city")
        constraints = [models.UniqueConstraint(fields=["grain", "day", "city"], name="reports_city_key")]
        indexes = [models.Index(fields=["city", "grain", "day"], name="reports_city_city_day")]

    def __str__(self) -> str:
        return f"{self.grain} {self.day}"


class SystemDaily(models.Model):
    """Requests per production system (fault reports and others) per day, province-wide."""

    day = models.DateField(_("day"))
    grain = models.CharField(max_length=1, choices=GRAIN_CHOICES, default=DAY_GRAIN)
    system = models.ForeignKey("org.ProductionSystem", on_delete=models.CASCADE, related_name="+")
    request_type = models.ForeignKey("tickets.RequestType", on_delete=models.CASCADE, related_name="+")
    sent = models.BigIntegerField(default=0)
    closed = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("daily requests per system")
        verbose_name_plural = _("daily requests per system")
        constraints = [models.UniqueConstraint(fields=["grain", "day", "system", "request_type"], name="reports_system_key")]

    def __str__(self) -> str:
        return f"{self.grain} {self.day}"



class UnitWorkDaily(models.Model):
    """Work done at one unit (a centre or a support group) per day."""

    day = models.DateField(_("day"))
    grain = models.CharField(max_length=1, choices=GRAIN_CHOICES, default=DAY_GRAIN)
    unit = models.ForeignKey("org.Unit", on_delete=models.CASCADE, related_name="+")
    locals().update(_counter_fields(WORK_COUNTERS))

    class Meta:
        verbose_name = _("daily work per unit")
        verbose_name_plural = _("daily work per unit")
        constraints = [models.UniqueConstraint(fields=["grain", "day", "unit"], name="reports_unitwork_key")]

    def __str__(self) -> str:
        return f"{self.grain} {self.day}"



class PersonDaily(models.Model):
    """Work done by one person per day (the unit is where they worked when they acted)."""

    day = models.DateField(_("day"))
    grain = models.CharField(max_length=1, choices=GRAIN_CHOICES, default=DAY_GRAIN)
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey("org.Unit", on_delete=models.CASCADE, related_name="+")
    locals().update(_counter_fields(WORK_COUNTERS))

    class Meta:
        verbose_name = _("daily work per person")
        verbose_name_plural = _("daily work per person")
        constraints = [models.UniqueConstraint(fields=["grain", "day", "person", "unit"], name="reports_person_key")]
        indexes = [models.Index(fields=["unit", "grain", "day"], name="reports_person_unit_day")]

    def __str__(self) -> str:
        return f"{self.grain} {self.day}"



class HandlingCounters(models.Model):
    """Holding periods that ended on a day, per level and request type: counts, totals, SLA results
    and histograms of waiting and working time (for the percentiles)."""

    day = models.DateField(_("day"))
    grain = models.CharField(max_length=1, choices=GRAIN_CHOICES, default=DAY_GRAIN)
    level = models.CharField(max_length=20)
    request_type = models.ForeignKey("tickets.RequestType", on_delete=models.CASCADE, related_name="+")
    periods = models.BigIntegerField(default=0)
    wait_seconds = models.BigIntegerField(default=0)
    work_seconds = models.BigIntegerField(default=0)
    sla_met = models.BigIntegerField(default=0)
    sla_breached = models.BigIntegerField(default=0)
    locals().update(_counter_fields([f"wait_{i}" for i in range(BUCKET_COUNT)]))
    locals().update(_counter_fields([f"work_{i}" for i in range(BUCKET_COUNT)]))

    class Meta:
        abstract = True


class HandlingDaily(HandlingCounters):
    """Handling times per origin county (read when a city or county is looked at)."""

    city = models.ForeignKey("org.Unit", on_delete=models.CASCADE, related_name="+")
    county = models.ForeignKey("org.Unit", on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("daily handling times")
        verbose_name_plural = _("daily handling times")
        constraints = [models.UniqueConstraint(fields=["grain", "day", "county", "level", "request_type"],
                                               name="reports_handling_key")]
        indexes = [models.Index(fields=["grain", "day", "city"], name="reports_handling_day_city")]

    def __str__(self) -> str:
        return f"{self.grain} {self.day}"



class ProvinceHandlingDaily(HandlingCounters):
    """The same for the whole province: a few rows a day, so a year reads in milliseconds."""

    class Meta:
        verbose_name = _("daily handling times of the province")
        verbose_name_plural = _("daily handling times of the province")
        constraints = [models.UniqueConstraint(fields=["grain", "day", "level", "request_type"],
                                               name="reports_provhandling_key")]

    def __str__(self) -> str:
        return f"{self.grain} {self.day}"



class IncidentDaily(models.Model):
    """Incidents opened, acknowledged and resolved per day, system, category and severity."""

    day = models.DateField(_("day"))
    grain = models.CharField(max_length=1, choices=GRAIN_CHOICES, default=DAY_GRAIN)
    system = models.ForeignKey("org.ProductionSystem", null=True, on_delete=models.CASCADE, related_name="+")
    category = models.CharField(max_length=20)
    severity = models.CharField(max_length=10)
    locals().update(_counter_fields(INCIDENT_COUNTERS))

    class Meta:
        verbose_name = _("daily incidents")
        verbose_name_plural = _("daily incidents")
        constraints = [
            models.UniqueConstraint(fields=["grain", "day", "system", "category", "severity"], name="reports_incident_key",
                                    nulls_distinct=False),
        ]

    def __str__(self) -> str:
        return f"{self.grain} {self.day}"


class SystemIncidentDaily(models.Model):
    """The roll-up of `IncidentDaily` per system (categories and severities together): what the
    trends, the comparison and the systems table read, a few dozen rows a day however many alerts."""

    day = models.DateField(_("day"))
    grain = models.CharField(max_length=1, choices=GRAIN_CHOICES, default=DAY_GRAIN)
    system = models.ForeignKey("org.ProductionSystem", null=True, on_delete=models.CASCADE, related_name="+")
    locals().update(_counter_fields(INCIDENT_COUNTERS))

    class Meta:
        verbose_name = _("daily incidents per system")
        verbose_name_plural = _("daily incidents per system")
        constraints = [
            models.UniqueConstraint(fields=["grain", "day", "system"], name="reports_sysincident_key",
                                    nulls_distinct=False),
        ]

    def __str__(self) -> str:
        return f"{self.grain} {self.day}"


class PendingTally(models.Model):
    """Counts of one transaction, not yet added to the summary tables.

    Written in the transition's transaction (an insert: no two requests wait for each other), folded
    into the summaries and deleted in one transaction by a worker (tasks.fold_tallies, woken on commit;
    beat folds what a lost wake-up left). `rows`: [model label, key as [name, value] pairs, counts].
    """

    rows = models.JSONField(encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("pending statistics")
        verbose_name_plural = _("pending statistics")

    def __str__(self) -> str:
        return f"{len(self.rows)} counts of {self.created_at:%Y-%m-%d %H:%M:%S}"

"""Finding service requests: the search form (the page's filters and the API's query parameters,
one definition), and the search itself, fast at the bank's scale.

What a person may see is `tickets.scoping.request_visibility`: requests filed under their roots, and
requests their unit has held. "Origin OR access row" in one WHERE clause cannot be read from an index,
so on PostgreSQL a page newest first is built from each part separately — each read newest first
through its own index, only as deep as the page needs — and the parts are united and sorted
(`RequestSearch`). Counts stop at `COUNT_LIMIT`, a text search's at `TEXT_COUNT_LIMIT`: beyond it a
person narrows the search instead of paging. Text in the subject is matched with LIKE, which
PostgreSQL answers from a trigram index, or for a two-character word from an index of the subject's
character pairs (migration 0005); SQLite (a developer's `make run`) scans. A common word (tens of
thousands of matches) is not read whole from those indexes and sorted: its page walks the requests
newest first and keeps those that match (`RequestSearch.row_by_row`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.lookups import DataContains
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Exists, Func, OuterRef, Q, QuerySet, TextField, Value
from django.db.models.functions import Cast, StrIndex, Upper
from django.db.models.lookups import GreaterThan
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from opsdesk.inputs import ascii_int
from opsdesk.org.choices import UnitKind
from opsdesk.org.models import ProductionSystem, Unit
from tickets.models import RequestAccess, RequestEvent, RequestType, ServiceRequest
from tickets.scoping import RequestVisibility, request_visibility
from workflow.requests import OPEN_STATES, SUBMIT, RequestState

__all__ = ["RequestSearchForm", "RequestSearch", "request_search", "COUNT_LIMIT", "TEXT_COUNT_LIMIT",
           "SEARCH_PARAMETERS"]

# Counting stops here: "more than 10,000" is an answer, and 200 pages of 50 are more than anyone reads.
COUNT_LIMIT = 10_000
# A search for text in the subject counts less far: a common word matches tens of thousands of
# requests, each of which would have to be read to be counted (an index of words does not count them),
# and "more than 1,000" (20 pages) already says: narrow the search.
TEXT_COUNT_LIMIT = 1_000
# Names a person matches, at most: a search for a common surname narrows nothing.
PEOPLE_LIMIT = 200
OUTLETS_LIMIT = 200

ORDERINGS = {
    "-created_at": ("-created_at", "-pk"),
    "created_at": ("created_at", "pk"),
    "held_since": ("held_since", "pk"),
    "-held_since": ("-held_since", "-pk"),
}
YES_NO = [("", _("Any")), ("true", _("Yes")), ("false", _("No"))]
EARLIEST, LATEST = datetime(1900, 1, 1).date(), datetime(2100, 12, 31).date()


def _within_calendar(value) -> None:
    day = value.date() if isinstance(value, datetime) else value
    if value is not None and not EARLIEST <= day <= LATEST:
        raise ValidationError(_("Choose a date between 1900 and 2100."), code="date_range")


class RequestSearchForm(forms.Form):
    """The filters of the request search: the search page's form, and the API's query parameters
    (an invalid one answers 400 with the form's message)."""

    q = forms.CharField(label=_("Number or subject"), max_length=200, required=False)
    outlet = forms.CharField(label=_("Outlet"), max_length=100, required=False,
                             help_text=_("Code or part of the name"))
    person = forms.CharField(label=_("Filed or handled by"), max_length=100, required=False,
                             help_text=_("User name or part of the name"))
    system = forms.ModelChoiceField(label=_("Production system"), queryset=ProductionSystem.objects.order_by("name"),
                                    required=False)
    type = forms.ModelChoiceField(label=_("Type"), queryset=RequestType.objects.all(), to_field_name="code",
                                  required=False)
    state = forms.MultipleChoiceField(label=_("State"), choices=RequestState.choices, required=False)
    open = forms.ChoiceField(label=_("Still open"), choices=YES_NO, required=False)
    level = forms.ChoiceField(label=_("Level"), choices=[("", _("Any")), *UnitKind.choices], required=False)
    holder = forms.IntegerField(label=_("Held by (unit id)"), min_value=1, max_value=2**62, required=False)
    unit = forms.IntegerField(label=_("Filed under (unit id)"), min_value=1, max_value=2**62, required=False)
    handled = forms.ChoiceField(label=_("History"), required=False, choices=[
        ("", _("Everything I may see")), ("unit", _("Handled by my unit")), ("me", _("Handled by me"))])
    mine = forms.ChoiceField(label=_("Filed by me"), choices=YES_NO, required=False)
    date_from = forms.DateField(label=_("Filed from"), required=False, validators=[_within_calendar],
                                widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("Filed to"), required=False, validators=[_within_calendar],
                              widget=forms.DateInput(attrs={"type": "date"}))
    # The API's exact instants (ISO 8601); the page uses the days above.
    created_after = forms.DateTimeField(required=False, validators=[_within_calendar], widget=forms.HiddenInput)
    created_before = forms.DateTimeField(required=False, validators=[_within_calendar], widget=forms.HiddenInput)
    ordering = forms.ChoiceField(label=_("Sort by"), required=False, choices=[
        ("-created_at", _("Newest first")), ("created_at", _("Oldest first")),
        ("held_since", _("Waiting longest first")), ("-held_since", _("Arrived most recently first"))])

    def __init__(self, data=None, *, given_only: bool = False, **kwargs):
        # "open=True" as well as "open=true" (the API has always taken both).
        if isinstance(data, QueryDict):
            data = data.copy()
            for name in ("open", "mine"):
                if name in data:
                    data[name] = data[name].strip().lower()
        if given_only and data is not None:
            # Only the filters given, for a form that is read, not shown (the API): Django copies every
            # field of a form for each instance, most of a list call's validation time. A filter not
            # given is empty either way, so filters() is the same.
            self.base_fields = {name: field for name, field in self.base_fields.items() if name in data}
        super().__init__(data, **kwargs)

    def clean(self):
        data = super().clean()
        for name in ("open", "mine"):
            value = data.get(name)
            data[name] = {"true": True, "false": False}.get(value) if value else None
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("The end date is before the start date."))
        return data

    def filters(self) -> dict:
        """The validated filters (the form must be valid), without the empty ones."""
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "", [])}


# Every query parameter the search reads (the API documents them; the fuzz tests draw from them).
SEARCH_PARAMETERS = tuple(RequestSearchForm.base_fields)


def _subject_q(text: str, *, indexed: bool = True) -> Q:
    """Text in the subject, any case. PostgreSQL answers three characters or more from the trigram
    index; two (a Chinese word) from the index of the subject's character pairs (migration 0005),
    which this condition names so that the planner can use it.

    Two characters are not also matched with LIKE: the trigram index cannot narrow a LIKE of two
    characters, and offered one the planner reads all of it (every request) to AND it with the pairs.
    The pair is found with strpos, which no index offers, and which costs little where the requests
    are read in order and filtered (a common word), before the pairs function (a costly one) runs.

    Not `indexed`: the same match offered to no index (strpos), for a word too common to be read from
    an index: the planner then reads the requests in the order asked and keeps those that match."""
    if connection.vendor != "postgresql" or (indexed and len(text) != 2):
        return Q(subject__icontains=text)
    subject = Upper(Cast("subject", TextField()))
    word = Upper(Value(text, output_field=TextField()))
    if not indexed:
        return Q(GreaterThan(StrIndex(subject, word), 0))
    pairs = Func(subject, function="tickets_bigrams", output_field=ArrayField(TextField()))
    # ARRAY[UPPER('卡纸')]: the database upper-cases the word as it did the subject's pairs (a constant
    # the planner folds before it looks for the index).
    word_pair = Func(word, template="ARRAY[%(expressions)s]", output_field=ArrayField(TextField()))
    return Q(GreaterThan(StrIndex(subject, word), 0)) & Q(DataContains(pairs, word_pair))


def _is_number_search(text: str) -> bool:
    return text.upper().startswith("SR") and ascii_int(text.upper().removeprefix("SR"), minimum=1) is not None


def _text_q(text: str, *, indexed: bool = True) -> Q:
    """A request number ("SR0000123": that request alone; "123": it, or the digits in a subject) or
    text in the subject."""
    number = ascii_int(text.upper().removeprefix("SR"), minimum=1)
    if number is not None and _is_number_search(text):
        return Q(pk=number)
    q = _subject_q(text, indexed=indexed)
    return q | Q(pk=number) if number is not None else q


def _outlet_q(text: str) -> Q:
    outlets = list(Unit.objects.filter(kind=UnitKind.OUTLET)
                   .filter(Q(code__iexact=text) | Q(name__icontains=text))
                   .values_list("pk", flat=True)[:OUTLETS_LIMIT])
    return Q(origin_unit_id__in=outlets)


def _person_q(text: str) -> Q:
    people = list(get_user_model().objects.filter(Q(username__iexact=text) | Q(display_name__icontains=text))
                  .values_list("pk", flat=True)[:PEOPLE_LIMIT])
    # One set of ids from three indexes (filed, held, acted on), not an OR tested row by row.
    return Q(pk__in=ServiceRequest.objects.filter(requester_id__in=people).order_by().values("pk").union(
        ServiceRequest.objects.filter(assignee_id__in=people).order_by().values("pk"),
        RequestEvent.objects.filter(actor_id__in=people).exclude(name=SUBMIT).order_by().values("request_id")))


def _day_start(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def filters_q(*, user, filters: dict) -> Q:
    """The filters as one condition on the requests (scoping is not here: `request_search` adds it)."""
    q = Q()
    if text := (filters.get("q") or "").strip():
        q &= _text_q(text)
    if text := (filters.get("outlet") or "").strip():
        q &= _outlet_q(text)
    if text := (filters.get("person") or "").strip():
        q &= _person_q(text)
    if "system" in filters:
        q &= Q(system=filters["system"])
    if "type" in filters:
        q &= Q(request_type=filters["type"])
    if "state" in filters:
        q &= Q(state__in=filters["state"])
    if filters.get("open") is not None:
        q &= Q(state__in=OPEN_STATES) if filters["open"] else Q(state=RequestState.CLOSED)
    if "level" in filters:
        q &= Q(level=filters["level"])
    if "holder" in filters:
        q &= Q(holder_unit_id=filters["holder"])
    if "unit" in filters:
        unit = Unit.objects.filter(pk=filters["unit"]).first()
        q &= Q(origin_unit__path__startswith=unit.path) if unit else Q(pk__in=[])
    if filters.get("mine") is not None:
        q &= Q(requester=user) if filters["mine"] else ~Q(requester=user)
    if filters.get("handled") == "unit":
        # Every request the caller's unit has held, the access rows the workflow writes.
        q &= Q(Exists(RequestAccess.objects.filter(request=OuterRef("pk"), unit_id=user.unit_id))) \
            if user.unit_id else Q(pk__in=[])
    elif filters.get("handled") == "me":
        # Every request the caller has acted on (filing aside), or holds personally now.
        q &= Q(pk__in=RequestEvent.objects.filter(actor=user).exclude(name=SUBMIT).order_by().values("request_id")
               .union(ServiceRequest.objects.filter(assignee=user).exclude(requester=user).order_by().values("pk")))
    if "date_from" in filters:
        q &= Q(created_at__gte=_day_start(filters["date_from"]))
    if "date_to" in filters:
        q &= Q(created_at__lt=_day_start(filters["date_to"] + timedelta(days=1)))
    if "created_after" in filters:
        q &= Q(created_at__gte=filters["created_after"])
    if "created_before" in filters:
        q &= Q(created_at__lt=filters["created_before"])
    return q


@dataclass
class RequestSearch:
    """The requests found, in order, for a paginator (Django's or the API's): `count()` (at most
    `count_limit` + 1) and slices. Each slice is one query built for that page.

    A search for text (`row_by_row` given: the same filters, the text matched row by row) reads the
    ids of the matches through the text indexes, at most `count_limit` + 1 of them, to count them. A
    word found no more often than that: its pages come from those ids (an index walk newest first
    would read far for each match). A common one: its pages walk the requests in order and keep the
    matches (`row_by_row`), a few hundred rows a page, instead of reading and sorting every match."""

    base: QuerySet  # the filtered requests, not yet scoped
    visibility: RequestVisibility
    ordering: tuple[str, ...]
    filtered: bool
    related: tuple[str, ...] = ()
    values: tuple[str, ...] = ()  # given: a page is rows of these values (dicts), not model instances
    count_limit: int = COUNT_LIMIT  # counting stops past it: `capped`
    row_by_row: QuerySet | None = None
    _count: int | None = field(default=None, init=False, repr=False)
    _keys: list[tuple] | None = field(default=None, init=False, repr=False)  # (sort key, pk) of each match

    @property
    def _by_parts(self) -> bool:
        # A held_since order (queues: small sets) reads the rule whole; so does SQLite.
        return (connection.vendor == "postgresql" and not self.visibility.everything
                and not self.visibility.nothing and self.ordering[0].lstrip("-") == "created_at")

    def _scoped(self, base: QuerySet | None = None) -> QuerySet:
        base = self.base if base is None else base
        if self.visibility.nothing:
            return base.none()
        return base.filter(self.visibility.as_q())

    def _part_ids(self, depth: int, *, ordered: bool = True, base: QuerySet | None = None,
                  fields: tuple[str, ...] = ("pk",)) -> QuerySet:
        """The ids of the first `depth` requests of each part, newest (or oldest) first, united.
        Unordered (for counting), each part stops at any `depth` of its requests. `fields` other than
        the id alone: tuples of those fields (a filtered search only)."""
        base = self.base if base is None else base
        sign = "-" if self.ordering[0].startswith("-") else ""
        flat = fields == ("pk",)
        parts = [base.filter(origin).order_by(*(self.ordering if ordered else ())).values_list(*fields, flat=flat)
                 [:depth] for origin in self.visibility.origins]
        unit = self.visibility.held_by_unit
        if unit is not None:
            if self.filtered:
                held = base.filter(accesses__unit_id=unit).values_list(*fields, flat=flat)
                order = (f"{sign}accesses__filed_at", f"{sign}pk")
            else:  # the access rows alone: one index, no request read
                held = RequestAccess.objects.filter(unit_id=unit).values_list("request_id", flat=True)
                order = (f"{sign}filed_at", f"{sign}request_id")
            parts.append(held.order_by(*(order if ordered else ()))[:depth])
        first, *rest = parts
        return first.union(*rest) if rest else first

    def count(self) -> int:
        """How many were found, at most `count_limit` + 1."""
        if self._count is None:
            limit = self.count_limit + 1
            if self.row_by_row is not None:  # a text search: the matches, through the text indexes
                fields = (self.ordering[0].lstrip("-"), "pk")  # what the page is sorted by
                found = set(self._part_ids(limit, ordered=False, fields=fields) if self._by_parts else
                            self._scoped().order_by().values_list(*fields)[:limit])
                self._count = min(len(found), limit)
                self._keys = sorted(found, reverse=self.ordering[0].startswith("-")) \
                    if len(found) <= self.count_limit else None
            elif self._by_parts:  # counted from the parts' ids alone, no request read
                self._count = min(self._part_ids(limit, ordered=False).count(), limit)
            else:
                self._count = self._scoped().order_by()[:limit].count()
        return self._count

    def __len__(self) -> int:
        return self.count()

    @property
    def capped(self) -> bool:
        """More were found than counted: the count shown is "more than `count_limit`"."""
        return self.count() > self.count_limit

    def __getitem__(self, key):
        if not isinstance(key, slice) or key.step not in (None, 1):
            raise TypeError("RequestSearch takes slices [start:stop]")
        start, stop = key.start or 0, key.stop
        if stop is None or start < 0 or stop <= start:
            return []
        base = self.base
        if self.row_by_row is not None:
            self.count()
            if self._keys is not None:  # few matches, found in scope and sorted by count(): the page's
                ids = [pk for _key, pk in self._keys[start:stop]]
                found = ServiceRequest.objects.filter(pk__in=ids)
                return list(self._shown(found).order_by(*self.ordering))
            base = self.row_by_row  # a common word: walk the requests in order, keep the matches
        if self._by_parts:
            found = ServiceRequest.objects.filter(pk__in=self._part_ids(stop, base=base))
            return list(self._shown(found).order_by(*self.ordering)[start:stop])
        # The page's ids first, from the requests alone; then those rows with what the list shows (a
        # queue of thousands joined whole before it is sorted costs more than the page).
        page = self._scoped(base).order_by(*self.ordering).values("pk")[start:stop]
        return list(self._shown(ServiceRequest.objects.filter(pk__in=page)).order_by(*self.ordering))

    def _shown(self, found: QuerySet) -> QuerySet:
        return found.values(*self.values) if self.values else found.select_related(*self.related)


def request_search(*, user, filters: dict, related: tuple[str, ...] = (), values: tuple[str, ...] = ()
                   ) -> RequestSearch:
    """The requests `user` may see that match `filters` (a valid `RequestSearchForm.filters()`),
    newest first unless `filters["ordering"]` says otherwise. Pages are model instances (with
    `related`), or with `values` rows of those values."""
    visibility = request_visibility(user)
    if (filters.get("handled") == "unit" and not visibility.origins
            and visibility.held_by_unit is not None and visibility.held_by_unit == user.unit_id):
        # A support group or the operations department sees exactly what its unit has held:
        # "handled by my unit" is everything it sees, read from the access rows alone.
        filters = {k: v for k, v in filters.items() if k != "handled"}
    ordering = ORDERINGS[filters.get("ordering") or "-created_at"]
    text = (filters.get("q") or "").strip()
    if not text or _is_number_search(text):
        q = filters_q(user=user, filters=filters)
        return RequestSearch(base=ServiceRequest.objects.filter(q), visibility=visibility, ordering=ordering,
                             filtered=bool(q), related=related, values=values)
    # Text in the subject: matched through its indexes, and row by row for a common word.
    others = filters_q(user=user, filters={k: v for k, v in filters.items() if k != "q"})
    return RequestSearch(base=ServiceRequest.objects.filter(others & _text_q(text)), visibility=visibility,
                         ordering=ordering, filtered=True, related=related, values=values,
                         count_limit=TEXT_COUNT_LIMIT,
                         row_by_row=ServiceRequest.objects.filter(others & _text_q(text, indexed=False)))

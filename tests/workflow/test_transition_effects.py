"""Every transition says what it counts as in the statistics, next to its declaration.

The reports count by these effects (`reports.services`), so a transition without a declaration
would silently count as nothing: these tests make adding one without deciding impossible."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django_fsm import FSMField, FSMModelMixin, transition

from alerts.models import Incident
from tickets.models import ServiceRequest
from workflow import incidents, requests
from workflow.effects import EFFECTS, counts, declared_effects
from workflow.incidents import IncidentEffect
from workflow.requests import ReportEffect

MACHINES = [
    pytest.param(ServiceRequest, requests, ReportEffect, id="requests"),
    pytest.param(Incident, incidents, IncidentEffect, id="incidents"),
]


def _transitions(model):
    """Every (transition, source) the concrete model's machine runs, as django-fsm collected them."""
    return list(model._meta.get_field("state").get_all_transitions(model))


@pytest.mark.parametrize(("model", "machine", "effect"), MACHINES)
def test_every_transition_declares_its_effects_from_every_source(model, machine, effect):
    declared = _transitions(model)
    assert declared
    for t in declared:
        assert EFFECTS in t.custom, f"{t.name} from {t.source}: add custom=counts(...) (empty if it counts as none)"
        assert all(isinstance(e, effect) for e in t.custom[EFFECTS]), t.name
        assert machine.transition_effects(t.name) == frozenset(t.custom[EFFECTS]), t.name


@pytest.mark.parametrize(("model", "machine", "effect"), MACHINES)
def test_every_effect_is_declared_by_some_step(model, machine, effect):
    names = {t.name for t in _transitions(model)} | set(machine.CREATION_EFFECTS)
    used = set().union(*(machine.transition_effects(n) for n in names))
    assert used == set(effect)


def test_creations_count_like_transitions_and_other_actions_count_as_nothing():
    assert requests.transition_effects(requests.SUBMIT) == {ReportEffect.FILED}
    assert incidents.transition_effects(incidents.OPEN) == {IncidentEffect.OPENED}
    assert incidents.transition_effects("silence") == frozenset()
    # Explicitly nothing: taking a request personally is a step of work, not a count of its own.
    assert requests.transition_effects("claim") == frozenset()
    assert set(incidents.transitions_with(IncidentEffect.OPENED)) == {incidents.OPEN, "reopen"}
    assert set(incidents.transitions_with()) == {incidents.OPEN, "acknowledge", "resolve", "reopen"}


def test_a_transition_without_a_declaration_is_refused():
    class Undeclared(FSMModelMixin, models.Model):
        state = FSMField(default="new")

        class Meta:
            abstract = True
            app_label = "workflow"

        @transition(field=state, source="new", target="done", custom=counts())
        def finish(self):
            pass

        @transition(field=state, source="new", target="gone")
        def forget(self):
            pass

    with pytest.raises(ImproperlyConfigured, match=r"Undeclared\.forget \(from new\)"):
        declared_effects(Undeclared)


def test_one_transition_counts_the_same_from_every_source():
    class Ambiguous(FSMModelMixin, models.Model):
        state = FSMField(default="a")

        class Meta:
            abstract = True
            app_label = "workflow"

        @transition(field=state, source="a", target="c", custom=counts(ReportEffect.ESCALATED))
        @transition(field=state, source="b", target="c", custom=counts())
        def go(self):
            pass

    with pytest.raises(ImproperlyConfigured, match="different report effects"):
        declared_effects(Ambiguous)

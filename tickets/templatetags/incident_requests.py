"""The link between alert incidents and service requests, as page fragments: the incident's page
lists its requests (`{% incident_requests incident %}`), a request's page shows the live state of
the incident it was filed from (`{% request_incident req %}`). A template tag of this app, so the
alert app's template shows requests without the alert app importing the tickets app."""

from __future__ import annotations

from django import template
from django.urls import reverse

from tickets.incident_requests import incident_of_request, may_file_from_incident, requests_for_incident

register = template.Library()


@register.inclusion_tag("tickets/_incident_requests.html", takes_context=True)
def incident_requests(context, incident) -> dict:
    user = context["request"].user
    return {
        "requests": list(requests_for_incident(user=user, incident_pk=incident.pk)[:50]),
        "file_url": (reverse("tickets:new_from_incident", args=[incident.pk])
                     if may_file_from_incident(user) else ""),
    }


@register.inclusion_tag("tickets/_request_incident.html", takes_context=True)
def request_incident(context, req) -> dict:
    return {"incident": incident_of_request(user=context["request"].user, request=req)}

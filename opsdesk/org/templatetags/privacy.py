"""`{% mobile_of person %}`: a person's mobile number as the page's reader may see it (opsdesk.org.privacy)."""

from __future__ import annotations

from django import template

from opsdesk.org.privacy import visible_mobile

register = template.Library()


@register.simple_tag(takes_context=True)
def mobile_of(context, person, number=None) -> str:
    """`person`'s number, or `number` (an address a message went to), whole or masked for the reader."""
    request = context.get("request")
    return visible_mobile(getattr(request, "user", None), person, number)

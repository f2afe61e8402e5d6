from django.urls import NoReverseMatch, reverse

from opsdesk.org.navigation import nav_for


def navigation(request):
    items = []
    for item in nav_for(getattr(request, "user", None)):
        try:
            items.append({"url": reverse(item.url_name), "label": item.label, "name": item.url_name})
        except NoReverseMatch:  # an app that is not installed contributes no page
            continue
    return {"nav_items": items}

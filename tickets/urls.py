from django.urls import path
from django.utils.translation import gettext_lazy as _

from opsdesk.views import placeholder

app_name = "tickets"
urlpatterns = [
    path("mine/", placeholder, {"title": _("My requests")}, name="mine"),
    path("new/", placeholder, {"title": _("New request")}, name="new"),
    path("queue/", placeholder, {"title": _("Queue")}, name="queue"),
    path("triage/", placeholder, {"title": _("Triage board")}, name="triage"),
    path("group/", placeholder, {"title": _("Group board")}, name="group_board"),
]

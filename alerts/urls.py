from django.urls import path
from django.utils.translation import gettext_lazy as _

from opsdesk.views import placeholder

app_name = "alerts"
urlpatterns = [
    path("board/", placeholder, {"title": _("Alert board")}, name="board"),
]

from django.urls import path
from django.utils.translation import gettext_lazy as _

from opsdesk.views import placeholder

app_name = "reports"
urlpatterns = [
    path("", placeholder, {"title": _("Statistics")}, name="index"),
]

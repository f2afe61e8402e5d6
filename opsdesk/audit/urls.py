from django.urls import path

from opsdesk.audit import views

app_name = "audit"

urlpatterns = [
    path("", views.index, name="index"),
    path("events.csv", views.export_events, name="export_events"),
    path("changes.csv", views.export_changes, name="export_changes"),
]

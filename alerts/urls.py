from django.urls import path

from alerts import views
from alerts.api import webhooks

app_name = "alerts"
urlpatterns = [
    path("board/", views.board, name="board"),
    path("board/feed/", views.board_feed, name="board_feed"),
    path("incidents/resolved/", views.incidents_resolved, name="incidents_resolved"),
    path("incidents/<int:pk>/", views.incident_detail, name="incident"),
    path("incidents/<int:pk>/act/<slug:name>/", views.incident_act, name="incident_act"),
    path("messages/<int:pk>/raw/", views.message_raw, name="message_raw"),
    path("silences/", views.silences, name="silences"),
    path("silences/<int:pk>/end/", views.silence_end, name="silence_end"),
    path("rules/test/", views.rule_test, name="rule_test"),
    path("teach/", views.teach, name="teach"),
    path("webhooks/<slug:slug>/", webhooks.receive, name="webhook"),
]

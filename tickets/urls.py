from django.urls import path

from tickets import views

app_name = "tickets"
urlpatterns = [
    path("mine/", views.mine, name="mine"),
    path("new/", views.new, name="new"),
    path("new/incident/<int:incident_pk>/", views.new_from_incident, name="new_from_incident"),
    path("new/<slug:code>/", views.new_of_type, name="new_of_type"),
    path("queue/", views.queue, name="queue"),
    path("triage/", views.triage, name="triage"),
    path("group/", views.group_board, name="group_board"),
    path("search/", views.search, name="search"),
    path("bulk/", views.bulk, name="bulk"),
    path("views/", views.saved_view_save, name="saved_view_save"),
    path("views/<int:pk>/delete/", views.saved_view_delete, name="saved_view_delete"),
    path("overview/", views.groups_overview, name="overview"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/act/<slug:name>/", views.act, name="act"),
    path("<int:pk>/comments/", views.comment, name="comment"),
    path("<int:pk>/attachments/", views.attach, name="attach"),
    path("<int:pk>/attachments/<int:attachment_pk>/", views.download, name="download"),
]

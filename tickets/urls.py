from django.urls import path

from tickets import views

app_name = "tickets"
urlpatterns = [
    path("mine/", views.mine, name="mine"),
    path("new/", views.new, name="new"),
    path("new/<slug:code>/", views.new_of_type, name="new_of_type"),
    path("queue/", views.queue, name="queue"),
    path("triage/", views.triage, name="triage"),
    path("group/", views.group_board, name="group_board"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/act/<slug:name>/", views.act, name="act"),
    path("<int:pk>/comments/", views.comment, name="comment"),
    path("<int:pk>/attachments/", views.attach, name="attach"),
    path("<int:pk>/attachments/<int:attachment_pk>/", views.download, name="download"),
]

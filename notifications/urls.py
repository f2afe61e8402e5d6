from django.urls import path

from notifications import views

app_name = "notifications"
urlpatterns = [
    path("mine/", views.mine, name="mine"),
    path("log/", views.log, name="log"),
    path("log/<int:pk>/resend/", views.resend, name="resend"),
    path("rosters/", views.rosters, name="rosters"),
    path("rosters/<str:code>/", views.roster_detail, name="roster"),
    path("shifts/<int:pk>/delete/", views.shift_delete, name="shift_delete"),
]

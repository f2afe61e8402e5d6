from django.urls import path

from reports import views

app_name = "reports"
urlpatterns = [
    path("", views.report_page, name="index"),
    path("<slug:slug>/", views.report_page, name="report"),
    path("<slug:slug>/export.<str:fmt>", views.report_export, name="export"),
]

"""The third-party apps' names in the admin, in the desk's words.

django-rest-knox, django-axes and django-otp name their apps (and knox and django-otp their models)
in English strings that are not marked for translation. An app's name is not part of any migration,
so it is set here; a model's name is (changing it would make migrations for those apps), so the
admin's app list (index and sidebar, on every admin page) shows the desk's name instead.
"""

from __future__ import annotations

from django.apps import apps
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

__all__ = ["install_admin_labels"]

APP_NAMES = {"knox": _("API tokens"), "axes": _("Login lockout"), "otp_static": _("Recovery codes"),
             "otp_totp": _("Authenticator apps")}
MODEL_NAMES = {("knox", "authtoken"): _("API tokens"), ("otp_static", "staticdevice"): _("Recovery code sets"),
               ("otp_totp", "totpdevice"): _("Authenticator apps")}


def install_admin_labels(site: admin.AdminSite) -> None:
    for label, name in APP_NAMES.items():
        if apps.is_installed(label) or label in {c.label for c in apps.get_app_configs()}:
            apps.get_app_config(label).verbose_name = name
    original = site.get_app_list

    def get_app_list(request, app_label=None):
        app_list = original(request, app_label)
        for app in app_list:
            for model in app["models"]:
                name = MODEL_NAMES.get((app["app_label"], model["object_name"].lower()))
                if name is not None:
                    model["name"] = name
        return app_list

    site.get_app_list = get_app_list

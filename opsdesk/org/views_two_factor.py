"""The second-factor pages: the code step after the password, enrolment, the recovery codes (once)."""

from __future__ import annotations

from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django import forms
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import mark_safe
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login

from opsdesk.org.two_factor import (
    confirm_enrolment,
    enrolment_device,
    enrolment_secret,
    has_confirmed_device,
    is_throttled,
    match_second_factor,
)

__all__ = ["verify", "enrol", "recovery_codes"]

SESSION_RECOVERY_CODES = "two_factor_recovery_codes"


class CodeForm(forms.Form):
    code = forms.CharField(label=gettext_lazy("Code"), max_length=32, strip=True,
                           widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True,
                                                         "inputmode": "text"}))


def _next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    # Only a path of this site: "\\" passes the host check, and redirect() would take it for a view name.
    if target.startswith("/") and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                                  require_https=request.is_secure()):
        return target
    return reverse("home")


def _wrong_code_message(throttled: bool) -> str:
    # django-otp's throttle: after a wrong code the next try must wait, doubling with each failure.
    if throttled:
        return _("Too many wrong codes. Wait a moment and try again with a new code.")
    return _("That code is not right, or it has already been used. Try the next code.")


def _pass(request, device):
    request.session.cycle_key()  # a new session id once the second factor is passed
    otp_login(request, device)


@never_cache
@sensitive_post_parameters("code")
@login_required
@require_http_methods(["GET", "POST"])
def verify(request):
    """The six-digit code (or a recovery code) after the password."""
    if request.user.is_verified():
        return redirect(_next(request))
    if not has_confirmed_device(request.user):
        return redirect(f"{reverse('two_factor_enrol')}?{request.GET.urlencode()}")
    form = CodeForm(request.POST or None)
    error = None
    if request.method == "POST" and form.is_valid():
        throttled = is_throttled(request.user, form.cleaned_data["code"])
        device = None if throttled else match_second_factor(request.user, form.cleaned_data["code"])
        if device is not None:
            _pass(request, device)
            return redirect(_next(request))
        error = _wrong_code_message(throttled)
    return render(request, "two_factor/verify.html", {"form": form, "error": error, "next": _next(request)})


def _qr_svg(url: str) -> str:
    # Drawn here, inline: bank intranets have no internet, and the secret must not leave the desk.
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    return mark_safe(image.to_string(encoding="unicode"))  # noqa: S308 — our own SVG, no user input


@never_cache
@sensitive_post_parameters("code")
@login_required
@require_http_methods(["GET", "POST"])
def enrol(request):
    """Set up an authenticator app: QR code and typed secret, then the first code confirms it."""
    if has_confirmed_device(request.user):
        # Replacing an authenticator takes the old one first (or a reset by the security administrator).
        return redirect(f"{reverse('two_factor_verify')}?{request.GET.urlencode()}")
    device = enrolment_device(request.user)
    form = CodeForm(request.POST or None)
    error = None
    if request.method == "POST" and form.is_valid():
        throttled = not device.verify_is_allowed()[0]
        codes = None if throttled else confirm_enrolment(request.user, device, form.cleaned_data["code"])
        if codes is not None:
            device.refresh_from_db()
            _pass(request, device)
            request.session[SESSION_RECOVERY_CODES] = codes
            return redirect(f"{reverse('two_factor_recovery_codes')}?{urlencode({'next': _next(request)})}")
        error = _wrong_code_message(throttled)
    return render(request, "two_factor/enrol.html", {
        "form": form, "error": error, "next": _next(request), "qr_svg": _qr_svg(device.config_url),
        "secret": enrolment_secret(device),
    })


@never_cache
@login_required
def recovery_codes(request):
    """The ten recovery codes, shown this one time (only their hashes are kept)."""
    codes = request.session.pop(SESSION_RECOVERY_CODES, None)
    if not codes:
        return redirect(_next(request))
    return render(request, "two_factor/recovery_codes.html", {"codes": codes, "next": _next(request)})

"""The screens of two-factor sign-in: the code after the password, setting up an app, recovery codes.

The admin site (articles/admin_site.py) serves them. The code step and the set-up page open to
someone whose password was right but who is not signed in yet (articles.admin.two_factor keeps
that pending sign-in); the others are ordinary admin pages. Every wrong code counts towards the
sign-in throttle (articles.admin.login_throttle), besides django-otp's own growing wait.
"""

from __future__ import annotations

import django_otp
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.views import LoginView, redirect_to_login
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from articles.admin import login_throttle, two_factor

# django-otp's own device lists would show keys and codes, in English only: staff manage their own
# devices on these screens, and an administrator resets someone's with `manage.py reset_two_factor`.
for _model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)

WRONG_CODE = _(
    "That code is not right. Enter the 6-digit code your authenticator app shows now, or one of your recovery codes."
)
WRONG_SETUP_CODE = _(
    "That code does not match. Scan the QR code on this page again (or type the key), check that the "
    "phone's clock is right, and enter the newest 6-digit code."
)
WRONG_IDENTITY = _("That is neither your password nor a current code from your authenticator app.")
EXPIRED = _("Signing in took too long. Please enter your username and password again.")


def wait_message(seconds: int) -> str:
    return ngettext(
        "Too many wrong codes in a row. Wait %(seconds)d second, then try again.",
        "Too many wrong codes in a row. Wait %(seconds)d seconds, then try again.",
        seconds,
    ) % {"seconds": seconds}


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}),
    )

    def __init__(self, *args, help_text=None, **kwargs):
        super().__init__(*args, **kwargs)
        if help_text:
            self.fields["code"].help_text = help_text


class IdentityForm(forms.Form):
    """Asked before sign-in itself changes: someone at an unattended desk cannot turn it off."""

    answer = forms.CharField(
        label=_("Your password, or a code from your authenticator app"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


def _throttled_code(request, user, form, field: str, check, wrong: str):
    """Run ``check`` (a code check) unless this user is locked out from here; count it if it fails.

    Returns the accepting ``CodeResult``, or None with the reason added to ``form``.
    """
    ip = login_throttle.client_ip(request)
    username = user.get_username()
    locked = login_throttle.seconds_locked(username, ip)
    if locked:
        form.add_error(field, login_throttle.lockout_message(locked))
        return None
    result = check()
    if result:
        login_throttle.clear_failures(username, ip, login_throttle.CODE)
        return result
    if result.wait_seconds:
        form.add_error(field, wait_message(result.wait_seconds))
        return None
    locked = login_throttle.register_failure(username, ip, login_throttle.CODE)
    form.add_error(field, login_throttle.lockout_message(locked) if locked else wrong)
    return None


def _render(site, request, template, context, form=None):
    context = {**site.each_context(request), **context}
    return TemplateResponse(request, template, context, status=400 if form is not None and form.errors else 200)


# --- Signing in ------------------------------------------------------------------------------------


class TwoStepLoginView(LoginView):
    """The admin's sign-in form; for someone with two-factor sign-in, the password is the first step only."""

    def form_valid(self, form):
        user = form.get_user()
        if not two_factor.needs_second_factor(user):
            return super().form_valid(form)
        two_factor.begin_sign_in(self.request, user, self.get_redirect_url() or reverse("admin:index"))
        return HttpResponseRedirect(two_factor.second_step_url(user))


def login(site, request, extra_context=None):
    """``AdminSite.login`` with the two-step view (Django's own, but for the view class)."""
    redirect_url = TwoStepLoginView().get_redirect_url(request) or reverse("admin:index", current_app=site.name)
    if request.method == "GET" and site.has_permission(request):
        return HttpResponseRedirect(redirect_url)
    context = {
        **site.each_context(request),
        "title": _("Log in"),
        "subtitle": None,
        "app_path": request.get_full_path(),
        "username": request.user.get_username(),
        "next": redirect_url,
        **(extra_context or {}),
    }
    request.current_app = site.name
    return TwoStepLoginView.as_view(
        extra_context=context,
        authentication_form=site.login_form,
        template_name=site.login_template or "admin/login.html",
    )(request)


def _expired(request):
    """No sign-in waiting for its second step: to the password, saying why if one timed out."""
    if two_factor.sign_in_started(request):
        messages.error(request, EXPIRED)
    return HttpResponseRedirect(reverse("admin:login"))


def verify_view(site, request):
    """The second step: a code from the app, or a recovery code."""
    if request.user.is_authenticated and site.has_permission(request):
        return HttpResponseRedirect(reverse("admin:index"))
    user = two_factor.pending_user(request)
    if user is None:
        return _expired(request)
    if not two_factor.enrolled(user):
        return HttpResponseRedirect(reverse("admin:two_factor_setup"))
    form = CodeForm(
        request.POST or None,
        help_text=_("The 6-digit code your authenticator app shows for Mali History, or one of your recovery codes."),
    )
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["code"]
        result = _throttled_code(request, user, form, "code", lambda: two_factor.check_code(user, code), WRONG_CODE)
        if result:
            next_url = two_factor.pending_next(request)
            two_factor.finish_sign_in(request, user, result.device)
            if result.recovery:
                left = two_factor.recovery_codes_left(user)
                messages.warning(
                    request,
                    ngettext(
                        "You signed in with a recovery code; it cannot be used again. %(count)d recovery code is left: make new ones under “Two-factor sign-in”.",
                        "You signed in with a recovery code; it cannot be used again. %(count)d recovery codes are left: make new ones under “Two-factor sign-in” if you are running low.",
                        left,
                    )
                    % {"count": left},
                )
            return HttpResponseRedirect(next_url)
    return _render(
        site,
        request,
        "admin/two_factor/verify.html",
        {"title": _("Enter your code"), "form": form, "pending_username": user.get_username()},
        form,
    )


# --- Setting up, recovery codes, turning off -------------------------------------------------------


def setup_view(site, request):
    """Scan a QR code (or type the key), confirm with the first code; then ten recovery codes, once."""
    pending = None
    if request.user.is_authenticated:
        if not site.has_permission(request):
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        user = request.user
        if two_factor.enrolled(user):
            return HttpResponseRedirect(reverse("admin:two_factor"))
    else:
        pending = user = two_factor.pending_user(request)
        if user is None:
            return _expired(request)
        if two_factor.enrolled(user):
            return HttpResponseRedirect(reverse("admin:two_factor_verify"))
    device = two_factor.new_authenticator(user)
    form = CodeForm(request.POST or None, help_text=_("The 6-digit code your app shows after you added the account."))
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["code"]
        result = _throttled_code(
            request, user, form, "code", lambda: two_factor.confirm_authenticator(device, code), WRONG_SETUP_CODE
        )
        if result:
            codes = two_factor.new_recovery_codes(user)
            next_url = two_factor.pending_next(request)
            if pending is not None:
                two_factor.finish_sign_in(request, user, result.device)
            else:
                django_otp.login(request, result.device)
            two_factor.keep_new_codes(request, codes)
            messages.success(request, _("Two-factor sign-in is on. From now on you sign in with a code as well."))
            return HttpResponseRedirect(
                reverse("admin:two_factor_recovery_codes") + "?" + urlencode({"next": next_url})
            )
    context = {
        "title": _("Set up two-factor sign-in"),
        "form": form,
        "qr_code": two_factor.qr_code_data_uri(device),
        "secret": two_factor.secret_text(device),
        "account": user.get_username(),
        "signing_in": pending is not None,
        "required": two_factor.required_for(user),
    }
    return _render(site, request, "admin/two_factor/setup.html", context, form)


def overview_view(site, request):
    user = request.user
    context = {
        "title": _("Two-factor sign-in"),
        "device": two_factor.authenticator(user),
        "codes_left": two_factor.recovery_codes_left(user),
        "required": two_factor.required_for(user),
    }
    return _render(site, request, "admin/two_factor/overview.html", context)


def _identity_confirmed(request, form) -> bool:
    if not form.is_valid():
        return False
    user, answer = request.user, form.cleaned_data["answer"]
    return bool(
        _throttled_code(
            request, user, form, "answer", lambda: two_factor.confirm_identity(user, answer), WRONG_IDENTITY
        )
    )


def recovery_codes_view(site, request):
    """The new codes, shown once; or, to make new ones, the password or a code first."""
    user = request.user
    if not two_factor.enrolled(user):
        return HttpResponseRedirect(reverse("admin:two_factor"))
    form = IdentityForm(request.POST or None)
    if request.method == "POST" and _identity_confirmed(request, form):
        two_factor.keep_new_codes(request, two_factor.new_recovery_codes(user))
        messages.success(request, _("New recovery codes made. The old ones no longer work."))
        return HttpResponseRedirect(reverse("admin:two_factor_recovery_codes"))
    next_url = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = ""
    context = {
        "title": _("Recovery codes"),
        "codes": two_factor.take_new_codes(request) if request.method == "GET" else [],
        "codes_left": two_factor.recovery_codes_left(user),
        "form": form,
        "next_url": next_url,
    }
    return _render(site, request, "admin/two_factor/recovery_codes.html", context, form)


def remove_view(site, request):
    user = request.user
    if not two_factor.enrolled(user):
        return HttpResponseRedirect(reverse("admin:two_factor"))
    form = IdentityForm(request.POST or None)
    if request.method == "POST" and _identity_confirmed(request, form):
        two_factor.remove(user)
        messages.success(request, _("Two-factor sign-in is off. You sign in with your password alone."))
        return HttpResponseRedirect(reverse("admin:two_factor"))
    context = {"title": _("Turn off two-factor sign-in"), "form": form, "required": two_factor.required_for(user)}
    return _render(site, request, "admin/two_factor/remove.html", context, form)


def urls(site) -> list:
    """The site's URLs for all this: the first two open before sign-in ends, the rest are admin pages."""

    def before_sign_in(view):
        return never_cache(csrf_protect(lambda request: view(site, request)))

    def admin_page(view):
        return site.admin_view(lambda request: view(site, request))

    return [
        path("login/code/", before_sign_in(verify_view), name="two_factor_verify"),
        path("two-factor/setup/", before_sign_in(setup_view), name="two_factor_setup"),
        path("two-factor/", admin_page(overview_view), name="two_factor"),
        path("two-factor/recovery-codes/", admin_page(recovery_codes_view), name="two_factor_recovery_codes"),
        path("two-factor/remove/", admin_page(remove_view), name="two_factor_remove"),
    ]

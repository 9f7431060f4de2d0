"""Two-factor sign-in for staff: who needs it, their devices, and the sign-in that is not finished yet.

A staff member who has set it up (a confirmed authenticator app, django-otp's ``TOTPDevice``), or
whom ``MALI_HISTORY_REQUIRE_2FA_FOR`` requires to have it, is not signed in by the password alone.
The password step (articles/admin/two_factor_views.py) records a *pending* sign-in in the session
instead; only a valid code (or, for someone who must set it up, a confirmed new app) signs them
in, through Django's ``login()``, and marks the session verified for django-otp. Until then they
are anonymous to every view, so nothing of the admin or of staff-only pages opens to them.

Sessions signed in with the password alone from before someone enrolled, or before the setting
required it, are taken back to the code or set-up step by ``TwoFactorMiddleware``.

Recovery codes are django-otp's ``StaticDevice`` tokens: ten random codes, each accepted once.
Like the authenticator's key they are kept as they are in the database (a database thief who
needs them has the keys already); they are shown to their owner once, when made.
"""

from __future__ import annotations

import time
from base64 import b32encode

import django_otp
from django.conf import settings
from django.contrib import auth
from django.contrib.auth.models import User
from django.db import transaction
from django.http import HttpResponseRedirect
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

RECOVERY_CODE_COUNT = 10
# A password entered but no code yet: how long the second step waits before the password is asked again.
PENDING_SECONDS = 10 * 60
_PENDING_KEY = "two_factor_pending"
_NEW_CODES_KEY = "two_factor_new_recovery_codes"
DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"


# --- Who needs a second factor ---------------------------------------------------------------


def required_for(user) -> bool:
    """Must this staff member use two-factor sign-in? Superusers, and the groups the setting names."""
    groups = [name for name in getattr(settings, "MALI_HISTORY_REQUIRE_2FA_FOR", ()) if name]
    if not groups or not user.is_authenticated:
        return False
    return user.is_superuser or user.groups.filter(name__in=groups).exists()


def authenticator(user, *, confirmed: bool = True) -> TOTPDevice | None:
    return TOTPDevice.objects.devices_for_user(user, confirmed=confirmed).order_by("pk").first()


def enrolled(user) -> bool:
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).exists()


def needs_second_factor(user) -> bool:
    """Has this staff member set it up, or must they? Asked by the middleware and the admin site: once a request."""
    if not (user.is_authenticated and user.is_staff):
        return False
    answer = getattr(user, "_needs_second_factor", None)
    if answer is None:
        answer = user._needs_second_factor = enrolled(user) or required_for(user)
    return answer


def verified(user) -> bool:
    """Was this session signed in with a second factor (django-otp's OTPMiddleware says)?"""
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified and is_verified())


def fully_signed_in(user) -> bool:
    """Signed in, and with a code if this person needs one: what the admin site asks of everyone."""
    return verified(user) or not needs_second_factor(user)


# --- Devices ---------------------------------------------------------------------------------


def new_authenticator(user) -> TOTPDevice:
    """The unconfirmed app being set up: the same key across reloads of the set-up page."""
    device = authenticator(user, confirmed=False)
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def secret_text(device: TOTPDevice) -> str:
    """The key as an authenticator app asks for it when typed: base32, in groups of four."""
    key = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


def qr_code_data_uri(device: TOTPDevice) -> str:
    """The set-up link as a QR code, an SVG made here (nothing is asked of another host)."""
    import segno

    return segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=4)


def normalise_code(code: str) -> str:
    """What people type: spaces and dashes between groups, capitals from a printed recovery code."""
    return "".join(code.split()).replace("-", "").lower()


def is_app_code(code: str) -> bool:
    return len(code) == 6 and code.isdigit()


class CodeResult:
    """The outcome of checking a code: the device that accepted it, or why none did."""

    def __init__(self, device=None, *, wait_seconds: int = 0):
        self.device = device
        self.wait_seconds = wait_seconds

    @property
    def recovery(self) -> bool:
        return isinstance(self.device, StaticDevice)

    def __bool__(self) -> bool:
        return self.device is not None


def _check(device, code: str) -> CodeResult:
    allowed, data = device.verify_is_allowed()
    if not allowed:
        # django-otp doubles the wait after each wrong code on this device (1, 2, 4 … seconds).
        locked_until = (data or {}).get("locked_until")
        seconds = 1 if locked_until is None else max(1, int(locked_until.timestamp() - time.time()) + 1)
        return CodeResult(wait_seconds=seconds)
    return CodeResult(device if device.verify_token(code) else None)


def check_code(user, code: str) -> CodeResult:
    """Check a code from the app, or a recovery code (used up if right), against this user's devices."""
    code = normalise_code(code)
    with transaction.atomic():
        if is_app_code(code):
            device = TOTPDevice.objects.devices_for_user(user, confirmed=True).select_for_update().first()
        else:
            device = StaticDevice.objects.devices_for_user(user, confirmed=True).select_for_update().first()
        if device is None or not code:
            return CodeResult()
        return _check(device, code)


def confirm_authenticator(device: TOTPDevice, code: str) -> CodeResult:
    """The first code from a newly scanned app confirms it."""
    code = normalise_code(code)
    if not is_app_code(code):
        return CodeResult()
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        result = _check(device, code)
        if result:
            TOTPDevice.objects.devices_for_user(device.user).exclude(pk=device.pk).delete()
            device.confirmed = True
            device.save(update_fields=["confirmed"])
    return result


@transaction.atomic
def new_recovery_codes(user) -> list[str]:
    """Replace this user's recovery codes with ten new ones; the old ones stop working."""
    StaticDevice.objects.devices_for_user(user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user).count()


@transaction.atomic
def remove(user) -> None:
    """Turn two-factor sign-in off for this user: the app and the recovery codes are forgotten."""
    TOTPDevice.objects.devices_for_user(user).delete()
    StaticDevice.objects.devices_for_user(user).delete()


def confirm_identity(user, answer: str) -> CodeResult:
    """Before a change to sign-in itself: the password, or a current code (used up, like any code)."""
    if answer and user.check_password(answer):
        return CodeResult(user)
    return check_code(user, answer) if is_app_code(normalise_code(answer)) else CodeResult()


def keep_new_codes(request, codes: list[str]) -> None:
    request.session[_NEW_CODES_KEY] = codes


def take_new_codes(request) -> list[str]:
    """The codes just made, once: a reload of the page shows them no more."""
    return request.session.pop(_NEW_CODES_KEY, [])


# --- The sign-in between the password and the code -------------------------------------------------


def begin_sign_in(request, user, next_url: str, backend: str | None = None) -> None:
    """The password was right: remember who is signing in, in a new session (no fixation)."""
    if auth.SESSION_KEY in request.session:
        auth.logout(request)  # whoever was signed in here before is not any more
    request.session.cycle_key()
    request.session[_PENDING_KEY] = {
        "user": user.pk,
        "backend": backend or getattr(user, "backend", None) or settings.AUTHENTICATION_BACKENDS[0],
        "next": next_url,
        "since": time.time(),
    }


def pending_user(request) -> User | None:
    """Who entered their password in this session and has a second step to go, if anyone."""
    pending = request.session.get(_PENDING_KEY)
    if not pending or time.time() - pending.get("since", 0) > PENDING_SECONDS:
        return None
    user = User.objects.filter(pk=pending.get("user"), is_active=True, is_staff=True).first()
    if user is not None:
        user.backend = pending["backend"]
    return user


def sign_in_started(request) -> bool:
    return _PENDING_KEY in request.session


def pending_next(request) -> str:
    return (request.session.get(_PENDING_KEY) or {}).get("next") or reverse("admin:index")


def finish_sign_in(request, user, device) -> None:
    """Sign in for real, the session marked as verified with ``device``."""
    auth.login(request, user, backend=user.backend)
    django_otp.login(request, device)
    request.session.pop(_PENDING_KEY, None)


def second_step_url(user) -> str:
    return reverse("admin:two_factor_verify" if enrolled(user) else "admin:two_factor_setup")


class TwoFactorMiddleware:
    """Sends a password-only session of someone who needs a second factor back to that step.

    Such a session predates the user's enrolment or the setting that requires it. It is signed out
    and becomes a pending sign-in: the admin asks for the code (or the set-up), and every other
    page treats the request as anonymous. Requests without a session cookie cost nothing here.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.SESSION_COOKIE_NAME in request.COOKIES:
            user = request.user
            if user.is_authenticated and not verified(user) and needs_second_factor(user):
                backend = request.session.get(auth.BACKEND_SESSION_KEY)
                next_url = request.get_full_path() if request.method == "GET" else reverse("admin:index")
                step = second_step_url(user)
                auth.logout(request)
                if request.path == reverse("admin:logout"):
                    return self.get_response(request)  # signing out: nothing to take them back to
                begin_sign_in(request, user, next_url, backend)
                if request.path.startswith(reverse("admin:index")) and request.path != step:
                    return HttpResponseRedirect(step)
        return self.get_response(request)

"""Codes as an authenticator app computes them, and staff enrolled in two-factor sign-in, for the tests."""

from __future__ import annotations

import time

from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from articles.admin import two_factor


def app_code(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    """The code the app shows now (or ``steps_ahead`` 30-second steps later, accepted within the tolerance).

    A code is accepted once per time step; a test that signs in twice asks for the next step's code.
    """
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits)  # the phone's clock: no drift
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def enrol(user) -> tuple[TOTPDevice, list[str]]:
    """Set up two-factor sign-in for ``user`` as the set-up page does; return the app and the recovery codes."""
    device = two_factor.new_authenticator(user)
    # The previous step's code (within the tolerance), so that the current one is still unused.
    assert two_factor.confirm_authenticator(device, app_code(device, steps_ahead=-1))
    device.refresh_from_db()
    return device, two_factor.new_recovery_codes(user)


def verified_login(client, user, device) -> None:
    """``client.force_login`` for someone with two-factor sign-in: the session as a code would leave it."""
    import django_otp

    client.force_login(user)
    session = client.session
    session[django_otp.DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()

"""Access: sign-in throttling (articles/login_throttle.py), password rules, production cookies, user admin.

The role-by-URL matrix for the site's own admin and moderation URLs is tests/admin/test_permissions.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client, RequestFactory
from django.urls import reverse

from articles.admin import login_throttle
from tests import factories

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
LOGIN_URL = reverse("admin:login")
WRONG = "not-the-password"


def sign_in(client, username, password, ip="203.0.113.7"):
    return client.post(LOGIN_URL, {"username": username, "password": password, "next": "/admin/"}, REMOTE_ADDR=ip)


def signed_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == "/admin/"


def error_text(response) -> str:
    form = response.context["form"]
    return " ".join(form.non_field_errors())


# ---------------------------------------------------------------- throttling


def test_five_failures_lock_the_account_from_that_address_with_a_clear_message(client, editor):
    for _ in range(4):
        response = sign_in(client, "editor", WRONG)
        assert "Please enter the correct username and password" in error_text(response)

    response = sign_in(client, "editor", WRONG)
    assert error_text(response) == "Too many failed sign-ins. Try again in 15 minutes."

    # Even the right password is refused while locked, with the same message.
    response = sign_in(client, "editor", factories.PASSWORD)
    assert not signed_in(response)
    assert error_text(response) == "Too many failed sign-ins. Try again in 15 minutes."
    assert "_auth_user_id" not in client.session


def test_the_lock_is_per_username_and_address(client, editor, moderator):
    for _ in range(5):
        sign_in(client, "editor", WRONG)
    assert signed_in(sign_in(Client(), "editor", factories.PASSWORD, ip="198.51.100.20"))
    assert signed_in(sign_in(Client(), "moderator", factories.PASSWORD))
    # Usernames are case-insensitive for the count, so "EDITOR" does not get five more tries.
    assert "Too many failed sign-ins" in error_text(sign_in(client, "EDITOR", WRONG))


def test_unknown_usernames_are_throttled_too(client):
    for _ in range(5):
        response = sign_in(client, "nobody", WRONG)
    assert "Too many failed sign-ins" in error_text(response)


def test_the_lock_expires_and_the_minutes_count_down(client, editor, monkeypatch):
    now = [1_000_000.0]
    monkeypatch.setattr(login_throttle, "_now", lambda: now[0])
    for _ in range(5):
        sign_in(client, "editor", WRONG)
    now[0] += 14 * 60 + 1
    assert error_text(sign_in(client, "editor", factories.PASSWORD)) == (
        "Too many failed sign-ins. Try again in 1 minute."
    )
    now[0] += 60
    # The cache entry itself expires with its timeout; here the clock moved, not the cache's.
    login_throttle.cache.delete(login_throttle._key("locked", "editor", "203.0.113.7"))
    assert signed_in(sign_in(client, "editor", factories.PASSWORD))


def test_a_successful_sign_in_clears_the_count(client, editor):
    for _ in range(4):
        sign_in(client, "editor", WRONG)
    assert signed_in(sign_in(client, "editor", factories.PASSWORD))
    client.logout()
    for _ in range(4):
        response = sign_in(client, "editor", WRONG)
    assert "Please enter the correct" in error_text(response)


def test_behind_the_local_proxy_the_forwarded_address_counts(client, editor):
    for _ in range(5):
        client.post(
            LOGIN_URL,
            {"username": "editor", "password": WRONG},
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR="10.9.9.9, 192.0.2.55",
        )
    assert login_throttle.seconds_locked("editor", "192.0.2.55") > 0
    # Another client behind the same proxy is not locked out.
    response = Client().post(
        LOGIN_URL,
        {"username": "editor", "password": factories.PASSWORD, "next": "/admin/"},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR="192.0.2.56",
    )
    assert signed_in(response)
    # A client that is not the proxy cannot choose its address with the header.
    request = RequestFactory().get("/", REMOTE_ADDR="198.51.100.1", HTTP_X_FORWARDED_FOR="192.0.2.99")
    assert login_throttle.client_ip(request) == "198.51.100.1"


COUNT_FAILURES = """
import django
django.setup()
from articles.admin import login_throttle
print(login_throttle.register_failure("editor", "192.0.2.1"))
"""


def test_failures_from_several_processes_add_up_in_the_shared_cache(shared_redis_cache):
    """Four worker processes each see one failure; the fifth, here, reaches the limit."""
    processes = [shared_redis_cache(COUNT_FAILURES) for _ in range(4)]
    results = [int(p.communicate(timeout=60)[0].strip().splitlines()[-1]) for p in processes]
    assert sorted(results) == [0, 0, 0, 0]  # four failures: not yet locked
    from django.core.cache import caches

    caches["default"].close()
    try:
        assert login_throttle.register_failure("editor", "192.0.2.1") == 15 * 60  # the fifth, in this process
        assert login_throttle.seconds_locked("editor", "192.0.2.1") > 14 * 60
    finally:
        login_throttle.cache.delete_many(
            [login_throttle._key(kind, "editor", "192.0.2.1") for kind in ("failures", "locked")]
        )


# ---------------------------------------------------------------- passwords


@pytest.mark.parametrize("password", ["password123", "12345678901", "short1!", "editor2024"])
def test_weak_passwords_are_refused(password, editor):
    with pytest.raises(ValidationError):
        validate_password(password, user=editor)


def test_the_admin_refuses_a_weak_password_when_changing_ones_own(client, editor):
    client.force_login(editor)
    response = client.post(
        reverse("admin:password_change"),
        {"old_password": factories.PASSWORD, "new_password1": "password", "new_password2": "password"},
    )
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors["new_password2"])
    assert "too short" in errors and "too common" in errors
    editor.refresh_from_db()
    assert editor.check_password(factories.PASSWORD)


def test_the_admin_refuses_a_weak_password_set_by_a_superuser(client, superuser, editor):
    client.force_login(superuser)
    response = client.post(
        reverse("admin:auth_user_password_change", args=[editor.pk]),
        {"usable_password": "true", "password1": "1234567890", "password2": "1234567890"},
    )
    assert response.status_code == 200
    assert "entirely numeric" in " ".join(response.context["form"].errors["password2"])
    editor.refresh_from_db()
    assert editor.check_password(factories.PASSWORD)


@pytest.mark.parametrize("role", ["editor", "moderator"])
@pytest.mark.parametrize(
    "name",
    [
        "admin:auth_user_changelist",
        "admin:auth_user_add",
        "admin:auth_group_changelist",
        "admin:auth_user_password_change",
        "admin:auth_user_change",
    ],
)
def test_editors_and_moderators_cannot_manage_accounts(role, name, client, superuser, request):
    client.force_login(request.getfixturevalue(role))
    url = (
        reverse(name, args=[superuser.pk])
        if name in ("admin:auth_user_password_change", "admin:auth_user_change")
        else reverse(name)
    )
    response = client.get(url)
    assert response.status_code in (403, 302)
    if response.status_code == 302:  # the admin sends an unauthorised object view back to its index
        assert response["Location"] == reverse("admin:index")


# ---------------------------------------------------------------- production cookies

PRINT_SECURITY_SETTINGS = """
import json, django
django.setup()
from django.conf import settings
print(json.dumps({name: getattr(settings, name, None) for name in (
    "DEBUG", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "CSRF_COOKIE_HTTPONLY",
    "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_CONTENT_TYPE_NOSNIFF", "X_FRAME_OPTIONS",
    "SESSION_COOKIE_SAMESITE", "CSRF_COOKIE_SAMESITE")}))
"""


def production_settings(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        {
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": "test-" + uuid.uuid4().hex * 2,
            "DJANGO_SETTINGS_MODULE": "mali_history.settings",
            "PYTHONPATH": str(ROOT),
            **extra,
        }
    )
    result = subprocess.run(
        [sys.executable, "-c", PRINT_SECURITY_SETTINGS],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_cookies_are_secure_and_http_only():
    values = production_settings()
    assert values["DEBUG"] is False
    assert values["SESSION_COOKIE_SECURE"] is True and values["CSRF_COOKIE_SECURE"] is True
    assert values["SESSION_COOKIE_HTTPONLY"] is True and values["CSRF_COOKIE_HTTPONLY"] is True
    assert values["SESSION_COOKIE_SAMESITE"] in ("Lax", "Strict")
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 31_536_000
    assert values["SECURE_CONTENT_TYPE_NOSNIFF"] is True and values["X_FRAME_OPTIONS"] == "DENY"


def test_production_cookies_stay_secure_when_tls_ends_at_the_proxy():
    # Behind nginx the app speaks plain HTTP, but the browser's cookie must still be HTTPS-only.
    values = production_settings(DJANGO_SECURE_SSL_REDIRECT="0")
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SESSION_COOKIE_SECURE"] is True and values["CSRF_COOKIE_SECURE"] is True


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update({"DJANGO_DEBUG": "0", "DJANGO_SETTINGS_MODULE": "mali_history.settings", "PYTHONPATH": str(ROOT)})
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr

"""Two-factor sign-in for staff (articles/admin/two_factor.py): enrolment, the code after the password,
recovery codes, turning it off, the setting that requires it, and throttling of wrong codes."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from articles.admin import login_throttle, two_factor
from tests import factories
from tests.admin.two_factor_helpers import app_code, enrol, verified_login

pytestmark = pytest.mark.django_db

LOGIN = reverse("admin:login")
VERIFY = reverse("admin:two_factor_verify")
SETUP = reverse("admin:two_factor_setup")
OVERVIEW = reverse("admin:two_factor")
CODES = reverse("admin:two_factor_recovery_codes")
REMOVE = reverse("admin:two_factor_remove")
IP = "203.0.113.9"


def password_step(client, username, next_url="/admin/"):
    return client.post(LOGIN, {"username": username, "password": factories.PASSWORD, "next": next_url}, REMOTE_ADDR=IP)


def code_step(client, code):
    return client.post(VERIFY, {"code": code}, REMOTE_ADDR=IP)


def signed_in_as(client) -> int | None:
    user_id = client.session.get("_auth_user_id")
    return int(user_id) if user_id else None


def code_error(response) -> str:
    return " ".join(response.context["form"].errors.get("code", []))


def secret_on_page(response) -> str:
    return re.search(r'class="two-factor-secret">([A-Z2-7 ]+)<', response.content.decode()).group(1)


@pytest.fixture
def enrolled_editor(editor):
    device, codes = enrol(editor)
    return editor, device, codes


@pytest.fixture
def require_moderators(settings):
    settings.MALI_HISTORY_REQUIRE_2FA_FOR = ["Moderator"]


# ---------------------------------------------------------------- enrolment


def test_an_editor_enrols_from_the_admin_and_gets_ten_recovery_codes_once(client, editor):
    client.force_login(editor)
    overview = client.get(OVERVIEW)
    assert "Two-factor sign-in is off." in overview.content.decode()
    assert f'href="{OVERVIEW}"' in client.get("/admin/").content.decode(), "linked from every admin page"

    page = client.get(SETUP)
    html = page.content.decode()
    assert 'src="data:image/svg+xml' in html and 'alt="QR code to scan with your authenticator app"' in html
    secret = secret_on_page(page)
    device = TOTPDevice.objects.get(user=editor, confirmed=False)
    assert secret.replace(" ", "") == two_factor.secret_text(device).replace(" ", "")
    assert client.get(SETUP).content.decode().count(secret) == 1, "a reload keeps the same key"

    response = client.post(SETUP, {"code": app_code(device)})
    assert response.status_code == 302 and response["Location"].startswith(CODES)
    device.refresh_from_db()
    assert device.confirmed

    shown = client.get(response["Location"])
    codes = re.findall(r"<li>([a-z2-7]{8})</li>", shown.content.decode())
    assert len(codes) == 10 and len(set(codes)) == 10
    assert sorted(codes) == sorted(StaticToken.objects.filter(device__user=editor).values_list("token", flat=True))
    assert "Save these recovery codes now" in shown.content.decode()
    again = client.get(CODES).content.decode()
    assert not any(code in again for code in codes), "shown once only"
    assert "You have 10 unused recovery codes." in again
    # The session that enrolled stays signed in, now verified.
    assert client.get("/admin/").status_code == 200


def test_a_wrong_code_at_enrolment_is_refused_and_nothing_is_turned_on(client, editor):
    client.force_login(editor)
    client.get(SETUP)
    response = client.post(SETUP, {"code": "000000"})
    assert response.status_code == 400
    assert "That code does not match." in code_error(response)
    assert not two_factor.enrolled(editor)
    assert not StaticToken.objects.filter(device__user=editor).exists()


# ---------------------------------------------------------------- signing in


def test_an_enrolled_editor_signs_in_with_password_then_code(enrolled_editor):
    editor, device, _codes = enrolled_editor
    client = Client()
    response = password_step(client, "editor", "/admin/articles/article/")
    assert response.status_code == 302 and response["Location"] == VERIFY
    assert signed_in_as(client) is None, "the password alone does not sign in"
    assert client.get("/admin/").status_code == 302
    page = client.get(VERIFY).content.decode()
    assert "Your password for <strong>editor</strong> was right." in page

    response = code_step(client, app_code(device))
    assert response.status_code == 302 and response["Location"] == "/admin/articles/article/"
    assert signed_in_as(client) == editor.pk
    assert client.get("/admin/articles/article/").status_code == 200


def test_a_wrong_code_is_refused_with_a_clear_message_in_english_and_french(enrolled_editor):
    client = Client()
    password_step(client, "editor")
    response = code_step(client, "123456")
    assert response.status_code == 400
    assert code_error(response) == (
        "That code is not right. Enter the 6-digit code your authenticator app shows now, or one of your recovery codes."
    )
    assert signed_in_as(client) is None

    french = Client(headers={"accept-language": "fr"})
    password_step(french, "editor")
    two_factor_device = TOTPDevice.objects.get(user=enrolled_editor[0])
    two_factor_device.throttling_failure_count = 0  # django-otp's own wait, tested below
    two_factor_device.save()
    response = french.post(VERIFY, {"code": "123456"}, REMOTE_ADDR="198.51.100.3")
    assert "Ce code n’est pas le bon." in code_error(response)


def test_a_recovery_code_signs_in_once(enrolled_editor):
    editor, _device, codes = enrolled_editor
    client = Client()
    password_step(client, "editor")
    response = client.post(VERIFY, {"code": codes[0].upper()[:4] + "-" + codes[0][4:]}, REMOTE_ADDR=IP, follow=True)
    assert signed_in_as(client) == editor.pk
    assert "You signed in with a recovery code; it cannot be used again. 9 recovery codes are left" in (
        response.content.decode()
    )

    again = Client()
    password_step(again, "editor")
    response = code_step(again, codes[0])
    assert "That code is not right." in code_error(response)
    assert signed_in_as(again) is None


def test_wrong_codes_count_towards_the_sign_in_lock(enrolled_editor, monkeypatch):
    editor, device, _codes = enrolled_editor
    # django-otp also makes each wrong code wait longer (1, 2, 4 … s); here only the shared count is under test.
    monkeypatch.setattr(TOTPDevice, "verify_is_allowed", lambda self: (True, None))
    client = Client()
    password_step(client, "editor")
    for _ in range(4):
        assert "That code is not right." in code_error(code_step(client, "111111"))
    assert code_error(code_step(client, "111111")) == "Too many failed sign-ins. Try again in 15 minutes."
    # Even the right code, and then the password, are refused from this address while locked.
    assert "Too many failed sign-ins" in code_error(code_step(client, app_code(device)))
    assert signed_in_as(client) is None
    response = password_step(Client(), "editor")
    assert "Too many failed sign-ins" in " ".join(response.context["form"].non_field_errors())


def test_a_correct_password_does_not_reset_the_count_of_wrong_codes(enrolled_editor, monkeypatch):
    monkeypatch.setattr(TOTPDevice, "verify_is_allowed", lambda self: (True, None))
    for _ in range(4):
        client = Client()
        password_step(client, "editor")
        code_step(client, "111111")
    client = Client()
    password_step(client, "editor")
    assert "Too many failed sign-ins" in code_error(code_step(client, "111111"))


def test_django_otp_makes_a_second_wrong_code_in_a_row_wait(enrolled_editor):
    _editor, device, _codes = enrolled_editor
    client = Client()
    password_step(client, "editor")
    code_step(client, "111111")
    response = code_step(client, app_code(device))
    assert "Too many wrong codes in a row. Wait" in code_error(response)
    assert signed_in_as(client) is None


def test_the_code_step_expires_and_asks_for_the_password_again(enrolled_editor, monkeypatch):
    client = Client()
    password_step(client, "editor")
    monkeypatch.setattr(two_factor, "PENDING_SECONDS", -1)
    response = client.get(VERIFY, follow=True)
    assert response.redirect_chain[-1][0] == LOGIN
    assert "Signing in took too long." in response.content.decode()


def test_the_code_step_is_no_way_in_without_the_password(enrolled_editor):
    _editor, device, _codes = enrolled_editor
    client = Client()
    response = client.post(VERIFY, {"code": app_code(device)})
    assert response.status_code == 302 and response["Location"] == LOGIN
    assert signed_in_as(client) is None


def test_a_session_from_before_enrolment_is_asked_for_the_code(client, editor):
    client.force_login(editor)  # signed in with the password alone
    enrol(editor)
    response = client.get("/admin/articles/article/")
    assert response.status_code == 302 and response["Location"] == VERIFY
    assert signed_in_as(client) is None, "signed out: every page, public ones too, treats it as a reader's"
    assert client.get(VERIFY).status_code == 200


def test_a_second_person_signing_in_on_the_same_browser_signs_the_first_out(client, moderator, enrolled_editor):
    client.force_login(moderator)
    password_step(client, "editor")
    assert signed_in_as(client) is None
    assert client.get("/admin/")["Location"].startswith(LOGIN)


def test_signing_out_a_session_from_before_enrolment_signs_out(client, editor):
    client.force_login(editor)
    enrol(editor)
    client.post(reverse("admin:logout"))
    assert signed_in_as(client) is None
    assert client.get(VERIFY)["Location"] == LOGIN, "no sign-in left half done"


def test_staff_without_two_factor_sign_in_as_before(client, editor):
    response = password_step(client, "editor")
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert signed_in_as(client) == editor.pk


# ---------------------------------------------------------------- the setting that requires it


def test_an_unenrolled_moderator_is_sent_to_set_up_and_can_do_nothing_else_until_enrolled(
    client, moderator, editor, require_moderators
):
    response = password_step(client, "moderator", "/admin/articles/revision/")
    assert response.status_code == 302 and response["Location"] == SETUP
    for url in ("/admin/", "/admin/articles/revision/", OVERVIEW, CODES, "/admin/password_change/"):
        assert client.get(url)["Location"].startswith(LOGIN), url
    page = client.get(SETUP)
    assert "Your role requires two-factor sign-in." in page.content.decode()

    device = TOTPDevice.objects.get(user=moderator, confirmed=False)
    response = client.post(SETUP, {"code": app_code(device)})
    assert response["Location"].startswith(CODES)
    assert signed_in_as(client) == moderator.pk
    assert "next=%2Fadmin%2Farticles%2Frevision%2F" in response["Location"]
    assert 'href="/admin/articles/revision/"' in client.get(response["Location"]).content.decode()
    assert client.get("/admin/articles/revision/").status_code == 200

    # An editor is not in the group: the password alone, as before.
    other = Client()
    assert password_step(other, "editor")["Location"] == "/admin/"
    assert other.get("/admin/").status_code == 200


def test_superusers_are_required_too_and_existing_sessions_are_sent_to_set_up(client, superuser, require_moderators):
    client.force_login(superuser)
    response = client.get("/admin/auth/user/")
    assert response.status_code == 302 and response["Location"] == SETUP
    assert client.get(SETUP).status_code == 200


def test_the_setting_is_read_from_the_environment():
    from tests.ops.test_production import production_settings

    values = production_settings("MALI_HISTORY_REQUIRE_2FA_FOR", MALI_HISTORY_REQUIRE_2FA_FOR="Moderator, Chief editor")
    assert values["MALI_HISTORY_REQUIRE_2FA_FOR"] == ["Moderator", "Chief editor"]
    assert production_settings("MALI_HISTORY_REQUIRE_2FA_FOR")["MALI_HISTORY_REQUIRE_2FA_FOR"] == []


def test_by_default_nobody_is_required(client, moderator, superuser):
    assert password_step(client, "moderator")["Location"] == "/admin/"
    assert not two_factor.required_for(moderator) and not two_factor.required_for(superuser)


# ---------------------------------------------------------------- recovery codes and removal


def test_new_recovery_codes_need_the_password_and_replace_the_old_ones(enrolled_editor):
    editor, device, old_codes = enrolled_editor
    client = Client()
    verified_login(client, editor, device)
    response = client.post(CODES, {"answer": "not my password"})
    assert response.status_code == 400
    assert "That is neither your password nor a current code" in " ".join(response.context["form"].errors["answer"])
    assert StaticToken.objects.filter(device__user=editor).count() == 10

    response = client.post(CODES, {"answer": factories.PASSWORD}, follow=True)
    new_codes = re.findall(r"<li>([a-z2-7]{8})</li>", response.content.decode())
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    assert not StaticToken.objects.filter(token__in=old_codes).exists()


def test_turning_it_off_needs_a_current_code_or_the_password(enrolled_editor):
    editor, device, _codes = enrolled_editor
    client = Client()
    verified_login(client, editor, device)
    assert client.post(REMOVE, {"answer": "not my password"}).status_code == 400
    assert two_factor.enrolled(editor)

    response = client.post(REMOVE, {"answer": app_code(device)})
    assert response.status_code == 302 and response["Location"] == OVERVIEW
    assert not two_factor.enrolled(editor)
    assert not StaticToken.objects.filter(device__user=editor).exists()
    assert client.get(OVERVIEW).status_code == 200
    client.logout()
    assert password_step(client, "editor")["Location"] == "/admin/", "the password alone again"


def test_a_required_moderator_who_turns_it_off_sets_it_up_again_at_once(moderator, require_moderators):
    device, _codes = enrol(moderator)
    client = Client()
    verified_login(client, moderator, device)
    client.post(REMOVE, {"answer": factories.PASSWORD})
    assert client.get("/admin/")["Location"] == SETUP


def test_an_administrator_resets_someones_two_factor_sign_in(enrolled_editor, capsys):
    editor = enrolled_editor[0]
    call_command("reset_two_factor", "editor")
    assert "Two-factor sign-in is off for editor." in capsys.readouterr().out
    assert not two_factor.enrolled(editor)
    assert not StaticToken.objects.filter(device__user=editor).exists()


def test_the_throttle_keys_keep_the_password_count_apart():
    assert login_throttle._key(login_throttle.CODE, "editor", IP) != login_throttle._key(
        login_throttle.PASSWORD, "editor", IP
    )

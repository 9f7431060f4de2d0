"""Two-factor sign-in in Chromium: an editor sets it up from the admin and signs in with a code; axe-core
finds nothing on its screens, in English and French, light and dark."""

from __future__ import annotations

import time
from base64 import b32decode

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django_otp.oath import TOTP

from tests import factories
from tests.admin.test_editor_browser import RECORD_CSP_VIOLATIONS
from tests.admin.two_factor_helpers import enrol, verified_login
from tests.reading.test_accessibility_browser import AXE, RUN_AXE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TIMEOUT = 15_000


def code_from_secret(secret: str, *, steps_ahead: int = 0) -> str:
    """What the phone shows for the key typed from the set-up page (as the person would type it)."""
    key = secret.replace(" ", "")
    totp = TOTP(b32decode(key + "=" * (-len(key) % 8)))
    totp.time = time.time() + steps_ahead * 30
    return f"{totp.token():06d}"


def sign_in_with_password(page, base_url, username, next_path="/admin/"):
    page.goto(f"{base_url}/admin/login/?next={next_path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_an_editor_sets_up_two_factor_sign_in_and_signs_in_with_a_code(live_server, page):
    factories.make_user("amina", group="Editor")
    page.set_viewport_size({"width": 1100, "height": 900})
    page.set_default_timeout(TIMEOUT)
    page.add_init_script(RECORD_CSP_VIOLATIONS)
    base = live_server.url

    sign_in_with_password(page, base, "amina")
    page.wait_for_url(f"{base}/admin/")
    page.get_by_role("link", name="Two-factor sign-in").click()
    page.get_by_role("link", name="Set up two-factor sign-in").click()
    qr = page.get_by_role("img", name="QR code to scan with your authenticator app")
    assert qr.is_visible() and qr.get_attribute("src").startswith("data:image/svg+xml")
    secret = page.locator(".two-factor-secret").inner_text()
    page.screenshot(path="test-artifacts/two-factor-setup.png", full_page=True)

    # A mistyped code first: a clear message, and nothing turned on.
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    assert "That code does not match." in page.locator(".errornote").inner_text()

    page.wait_for_timeout(1100)  # django-otp waits a second after a wrong code: a person takes longer to retype
    page.get_by_label("Code").fill(code_from_secret(secret))
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    page.wait_for_url("**/admin/two-factor/recovery-codes/**")
    assert "Two-factor sign-in is on." in page.locator(".messagelist").inner_text()
    codes = page.locator(".recovery-codes li").all_inner_texts()
    page.screenshot(path="test-artifacts/two-factor-recovery-codes.png")
    assert len(codes) == 10
    page.get_by_role("link", name="I have saved them — continue").click()
    page.wait_for_url(f"{base}/admin/")
    page.get_by_role("button", name="Log out").click()

    # Next time: the password, then the code.
    sign_in_with_password(page, base, "amina", "/admin/articles/article/")
    page.wait_for_url(f"{base}/admin/login/code/")
    assert page.get_by_role("heading", name="Enter your code").is_visible()
    page.screenshot(path="test-artifacts/two-factor-code.png")
    page.get_by_label("Code").fill(code_from_secret(secret, steps_ahead=1))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/admin/articles/article/")
    assert page.evaluate("window.__cspViolations") == []


def _cookie(client: Client, base_url: str) -> dict:
    return {
        "name": django_settings.SESSION_COOKIE_NAME,
        "value": client.cookies[django_settings.SESSION_COOKIE_NAME].value,
        "url": base_url,
    }


def _axe(browser, base_url, pages: dict[str, tuple[Client, str]], locale: str) -> list[str]:
    problems = []
    for scheme in ("light", "dark"):
        for name, (client, path) in pages.items():
            # A context per page: each page is seen by its own session (a sign-in half done, or an enrolled editor).
            context = browser.new_context(bypass_csp=True, color_scheme=scheme, locale=locale)
            context.add_cookies([_cookie(client, base_url)])
            page = context.new_page()
            page.set_default_timeout(TIMEOUT)
            try:
                response = page.goto(base_url + path)
                assert response.ok or response.status == 400, (name, response.status)
                if scheme == "light":
                    page.screenshot(path=f"test-artifacts/two-factor-{name.replace(' ', '-')}-{locale}.png")
                page.add_script_tag(path=str(AXE))
                for violation in page.evaluate(RUN_AXE):
                    targets = ", ".join(node["target"] for node in violation["nodes"][:5])
                    problems.append(f"{name} ({locale}, {scheme}): {violation['id']} {violation['help']}: {targets}")
            finally:
                context.close()
    return problems


@pytest.mark.parametrize("locale", ["en-GB", "fr-FR"], ids=["english", "french"])
def test_the_two_factor_screens_have_no_axe_violations(browser, live_server, locale):
    newcomer = factories.make_user("newcomer", group="Editor")
    editor = factories.make_user("enrolled", group="Editor")
    device, _codes = enrol(editor)

    not_enrolled = Client()
    not_enrolled.force_login(newcomer)
    enrolled = Client()
    verified_login(enrolled, editor, device)
    with_new_codes = Client()
    verified_login(with_new_codes, editor, device)
    with_new_codes.post("/admin/two-factor/recovery-codes/", {"answer": factories.PASSWORD})
    half_signed_in = Client(headers={"accept-language": locale})
    half_signed_in.post("/admin/login/", {"username": "enrolled", "password": factories.PASSWORD})

    pages = {
        "the code step": (half_signed_in, "/admin/login/code/"),
        "overview, off": (not_enrolled, "/admin/two-factor/"),
        "set-up": (not_enrolled, "/admin/two-factor/setup/"),
        "overview, on": (enrolled, "/admin/two-factor/"),
        "new recovery codes": (with_new_codes, "/admin/two-factor/recovery-codes/"),
        "make new recovery codes": (enrolled, "/admin/two-factor/recovery-codes/"),
        "turn off": (enrolled, "/admin/two-factor/remove/"),
    }
    problems = _axe(browser, live_server.url, pages, locale)
    assert not problems, "axe-core found:\n" + "\n".join(problems)

"""Presence and autosave on change forms in Chromium (static/articles/admin/presence.js, autosave.js).

A second editor sees the first at once, and the first sees the second at the next heartbeat; a
text typed and never saved survives a closed tab and comes back only when the editor chooses it;
saving forgets it. axe-core finds nothing on the form with every notice shown, in English and
French, and neither script causes a console error or a Content-Security-Policy violation.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from articles.admin import presence
from articles.models import Revision
from articles.revisions import moderation
from tests import factories
from tests.reading.test_accessibility_browser import AXE, RUN_AXE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
TIMEOUT = 10_000
ORIGINAL_BODY = "MINUSMA was established in April 2013."
RESTORE_BUTTON = re.compile(r"^Restore your unsaved text from \d\d:\d\d$")

RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push({directive: event.violatedDirective, blocked: event.blockedURI, source: event.sourceFile});
});
"""


@pytest.fixture
def content(db):
    moderator = factories.make_user("desk-moderator", group="Moderator")
    article = factories.article(moderator, title="Deployments", slug="deployments")
    section = factories.section(moderator, article, title="MINUSMA", body=ORIGINAL_BODY)
    return {"moderator": moderator, "article": article, "section": section}


def named_editor(username, first, last):
    user = factories.make_user(username, group="Editor")
    user.first_name, user.last_name = first, last
    user.save()
    return user


def open_context(browser, live_server, user, locale="en-GB", bypass_csp=False):
    """A browser profile signed in as ``user`` (its own cookies and localStorage), watching for errors."""
    context = browser.new_context(locale=locale, bypass_csp=bypass_csp)
    context.set_default_timeout(TIMEOUT)
    context.add_init_script(RECORD_CSP_VIOLATIONS)
    context.errors = []
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", factories.PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    page.close()
    return context


def new_page(context):
    page = context.new_page()
    page.on("console", lambda m: m.type == "error" and context.errors.append(m.text))
    page.on("pageerror", lambda e: context.errors.append(f"uncaught: {e}"))
    return page


def assert_clean(page, context):
    assert page.evaluate("window.__cspViolations") == []
    unexpected = [e for e in context.errors if "favicon" not in e]
    assert unexpected == [], unexpected


def section_url(live_server, section, query=""):
    return f"{live_server.url}/admin/articles/section/{section.pk}/change/{query}"


def test_a_second_editor_sees_the_first_and_the_first_sees_the_second_at_the_next_heartbeat(
    browser, live_server, content, monkeypatch
):
    monkeypatch.setattr(presence, "HEARTBEAT_SECONDS", 1)
    aminata = named_editor("aminata", "Aminata", "Traoré")
    moussa = named_editor("moussa", "Moussa", "Keïta")
    first = open_context(browser, live_server, aminata)
    second = open_context(browser, live_server, moussa)
    try:
        page_a = new_page(first)
        page_a.goto(section_url(live_server, content["section"]))
        assert page_a.locator(".presence-notice").count() == 0

        page_b = new_page(second)
        page_b.goto(section_url(live_server, content["section"]))
        notice = page_b.locator(".presence-notice")
        assert re.fullmatch(
            r"Aminata Traoré is editing this section, since \d\d:\d\d\.", notice.locator("li").inner_text()
        )

        # Aminata's page learns of Moussa from its heartbeat, without a reload.
        page_a.locator(".presence-notice", has_text="Moussa Keïta is editing this section").wait_for()

        # Moussa proposes a change: Aminata's page shows the proposal she would overlap, with its link.
        section = content["section"]
        revision = moderation.propose(
            obj=section, author=moussa, summary="Dates checked", data={**section.snapshot(), "body": "Began 2013."}
        )
        warning = page_a.locator("[data-presence-region='pending'] .moderation-notice")
        warning.get_by_text("Another editor's proposal is waiting").wait_for()
        link = warning.get_by_role("link", name=f"#{revision.pk} — Dates checked")
        assert link.get_attribute("href") == f"/admin/articles/revision/{revision.pk}/change/"

        # Moussa closes his tab: Aminata stops seeing him at her next heartbeat, not 90 s later.
        page_b.close(run_before_unload=True)
        page_a.locator(".presence-notice").wait_for(state="detached")
        assert_clean(page_a, first)
    finally:
        first.close()
        second.close()


def type_unsaved_text(page, text):
    body = page.locator("textarea[name='body']")
    page.wait_for_selector(".field-body .markdownx[data-editor-ready]")
    body.fill(text)
    page.fill("input[name='title']", "MINUSMA (2013–2023)")
    # Written a moment after the last keystroke; the tab is then closed as a crash would: no unload.
    page.wait_for_function("() => Object.keys(localStorage).some((key) => key.startsWith('mali-history:autosave:'))")


def autosaved_keys(page):
    return page.evaluate("() => Object.keys(localStorage).filter((k) => k.startsWith('mali-history:autosave:'))")


def test_unsaved_text_survives_a_closed_tab_and_comes_back_only_when_chosen(browser, live_server, content):
    editor = named_editor("aminata", "Aminata", "Traoré")
    context = open_context(browser, live_server, editor)
    url = section_url(live_server, content["section"])
    try:
        page = new_page(context)
        page.goto(url)
        assert not page.locator(".autosave-notice").is_visible()
        type_unsaved_text(page, "MINUSMA was established by resolution 2100 on 25 April 2013.")
        page.close()

        page = new_page(context)
        page.goto(url)
        notice = page.locator(".autosave-notice")
        restore = notice.get_by_role("button", name=RESTORE_BUTTON)
        assert notice.is_visible() and restore.is_visible()
        # Not restored by itself: the form shows the published text until the editor chooses.
        assert page.locator("textarea[name='body']").input_value() == ORIGINAL_BODY
        ARTIFACTS.mkdir(exist_ok=True)
        page.locator("#content").screenshot(path=str(ARTIFACTS / "autosave-offer.png"))
        restore.click()
        assert page.locator("textarea[name='body']").input_value() == (
            "MINUSMA was established by resolution 2100 on 25 April 2013."
        )
        assert page.locator("input[name='title']").input_value() == "MINUSMA (2013–2023)"
        assert re.search(r"Your unsaved text from \d\d:\d\d is back in the form", notice.inner_text())
        # The Markdown editor's preview follows the restored text.
        preview = page.frame_locator(".field-body .markdownx-preview iframe")
        preview.get_by_text("resolution 2100").wait_for()

        # Discard: the copy goes, and the next visit offers nothing.
        page.close()
        page = new_page(context)
        page.goto(url)
        page.locator(".autosave-notice").get_by_role("button", name="Discard").click()
        assert not page.locator(".autosave-notice").is_visible()
        assert page.locator("textarea[name='body']").input_value() == ORIGINAL_BODY
        assert autosaved_keys(page) == []
        page.reload()
        assert not page.locator(".autosave-notice").is_visible()

        # A copy nobody came back for in a month is dropped by the next admin page.
        page.evaluate(
            """() => localStorage.setItem('mali-history:autosave:1:articles.topic:9',
                 JSON.stringify({savedAt: Date.now() - 40 * 86400000, fields: {name: 'Old'}}))"""
        )
        page.goto(f"{live_server.url}/admin/")
        assert autosaved_keys(page) == []
        assert_clean(page, context)
    finally:
        context.close()


def test_saving_forgets_the_copy_whether_the_admin_or_a_public_page_follows(browser, live_server, content):
    editor = named_editor("aminata", "Aminata", "Traoré")
    context = open_context(browser, live_server, editor)
    section = content["section"]
    try:
        # A save refused by the server (no edit summary) keeps the copy.
        page = new_page(context)
        page.goto(section_url(live_server, section))
        type_unsaved_text(page, "First version of the change.")
        page.click("input[name='_save']")
        page.locator(".errornote").wait_for()
        page.close()
        page = new_page(context)
        page.goto(section_url(live_server, section))
        page.locator(".autosave-notice").get_by_role("button", name=RESTORE_BUTTON).click()
        assert page.locator("textarea[name='body']").input_value() == "First version of the change."

        # Saved, back to the list with the admin's success message: the copy is gone.
        page.fill("input[name='edit_summary']", "Date of the resolution")
        page.click("input[name='_save']")
        page.locator(".messagelist .success").wait_for()
        assert autosaved_keys(page) == []
        assert Revision.objects.filter(author=editor, summary="Date of the resolution").exists()

        # From a public page's "Edit" link, the save leads back to that page (no script there);
        # the next visit to the form knows the save was recorded.
        page.goto(section_url(live_server, section, "?next=/articles/deployments/"))
        type_unsaved_text(page, "Second change.")
        page.fill("input[name='edit_summary']", "Second change")
        page.click("input[name='_save']")
        page.wait_for_url(f"{live_server.url}/articles/deployments/")
        page.goto(section_url(live_server, section))
        assert not page.locator(".autosave-notice").is_visible()
        assert autosaved_keys(page) == []
        assert_clean(page, context)
    finally:
        context.close()


@pytest.mark.parametrize("locale", ["en-GB", "fr-FR"], ids=["english", "french"])
def test_the_change_form_with_every_notice_shown_has_no_axe_violations(browser, live_server, content, locale):
    editor = named_editor("aminata", "Aminata", "Traoré")
    other = named_editor("moussa", "Moussa", "Keïta")
    section = content["section"]
    moderation.propose(obj=section, author=other, summary="Dates", data={**section.snapshot(), "body": "Began 2013."})
    # axe is injected by the test: the page's own policy would block it (as in test_accessibility_browser.py).
    context = open_context(browser, live_server, editor, locale=locale, bypass_csp=True)
    problems = []
    try:
        page = new_page(context)
        page.goto(section_url(live_server, section))
        type_unsaved_text(page, "Unsaved text.")
        presence.record(section, other, page="elsewhere")
        page.close()
        for scheme in ("light", "dark"):
            page = new_page(context)
            page.emulate_media(color_scheme=scheme)
            page.goto(section_url(live_server, section))
            for selector in (
                ".presence-notice",
                "[data-presence-region='pending'] .moderation-notice",
                ".autosave-notice",
            ):
                assert page.locator(selector).is_visible(), selector
            if locale == "fr-FR":
                assert "Moussa Keïta modifie cet objet" in page.locator(".presence-notice").inner_text()
                assert page.get_by_role("button", name="Abandonner").is_visible()
            page.add_script_tag(path=str(AXE))  # the test's own script: the page's policy would block it
            for violation in page.evaluate(RUN_AXE):
                problems.append(f"{scheme}: {violation['id']} {violation['help']}: {violation['nodes'][0]['target']}")
            if scheme == "light" and locale == "en-GB":
                ARTIFACTS.mkdir(exist_ok=True)
                page.set_viewport_size({"width": 1100, "height": 620})
                page.screenshot(path=str(ARTIFACTS / "presence-notices.png"))
            page.close()
    finally:
        context.close()
    assert not problems, "axe-core found:\n" + "\n".join(problems)

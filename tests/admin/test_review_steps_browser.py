"""In Chromium: a two-step workflow publishes only after both steps; the new screens pass axe-core in English and French."""

from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType

from articles.models import Revision, Section, Workflow
from articles.revisions import moderation, step_decisions
from tests import factories
from tests.reading.test_accessibility_browser import _axe_violations, _session_cookie

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OLD = "MINUSMA was created in 2012."
NEW = "MINUSMA was created on 25 April 2013."
ARTIFACTS = Path("test-artifacts")


@pytest.fixture
def newsroom(live_server, settings):
    """A published section, and sections reviewed by Fact-checkers, then by Moderators who publish."""
    settings.SITE_URL = live_server.url
    factories.ensure_groups()
    moderator = factories.make_user("moderator", group="Moderator")
    editor = factories.make_user("editor", group="Editor")
    checker = factories.make_user("checker", group="Editor")
    checker.groups.add(Group.objects.create(name="Fact-checkers"))
    article = factories.article(moderator, title="Deployments", slug="deployments")
    section = factories.section(moderator, article, title="Creation", anchor="creation", body=OLD)
    workflow = Workflow.objects.create(name="Fact-checked")
    workflow.steps.create(position=1, name="Fact-check", group=Group.objects.get(name="Fact-checkers"))
    workflow.steps.create(position=2, name="Copy-edit and publish", group=Group.objects.get(name="Moderator"))
    workflow.assignments.create(content_type=ContentType.objects.get_for_model(Section))
    return {"moderator": moderator, "editor": editor, "checker": checker, "section": section}


def _signed_in(browser, user, live_server, locale="en-GB"):
    context = browser.new_context(locale=locale)
    context.add_cookies([_session_cookie(user, live_server)])
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def _public_text(browser, live_server):
    page = browser.new_context().new_page()
    page.goto(f"{live_server.url}/articles/deployments/")
    text = page.locator("main").inner_text()
    page.context.close()
    return text


def test_two_steps_publish_only_after_both(browser, live_server, newsroom):
    section = newsroom["section"]
    revision = moderation.propose(
        obj=section, author=newsroom["editor"], summary="Date of creation", data={**section.snapshot(), "body": NEW}
    )

    # The fact-checker opens the queue, filters to their step and approves it.
    checker = _signed_in(browser, newsroom["checker"], live_server)
    checker.goto(f"{live_server.url}/admin/articles/revision/")
    checker.get_by_role("link", name="Waiting for my step").click()
    checker.get_by_role("link", name="Creation").click()
    assert "Fact-check — step 1 of 2" in checker.locator(".review-step").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    checker.set_viewport_size({"width": 1280, "height": 900})
    checker.screenshot(path=str(ARTIFACTS / "review-steps.png"))
    checker.get_by_role("button", name="Approve “Fact-check”").click()
    assert "It now waits for “Copy-edit and publish”" in checker.locator(".messagelist").inner_text()
    checker.context.close()

    public = _public_text(browser, live_server)
    assert OLD in public and NEW not in public, "after the first step, readers see the published text"

    # The moderator takes the last step, which publishes.
    moderator = _signed_in(browser, newsroom["moderator"], live_server)
    moderator.goto(f"{live_server.url}{revision.get_admin_url()}")
    assert "Copy-edit and publish — step 2 of 2" in moderator.locator(".review-step").inner_text()
    moderator.get_by_role("button", name="Approve and publish").click()
    assert "Readers see it now" in moderator.locator(".messagelist").inner_text()
    moderator.context.close()

    public = _public_text(browser, live_server)
    assert NEW in public and OLD not in public
    assert list(Revision.objects.get(pk=revision.pk).events.order_by("pk").values_list("kind", flat=True)) == [
        "proposed",
        "step_approved",
        "approved",
    ]


def test_the_author_amends_and_resubmits_what_a_reviewer_sent_back(browser, live_server, newsroom):
    section = newsroom["section"]
    revision = moderation.propose(
        obj=section, author=newsroom["editor"], summary="Date of creation", data={**section.snapshot(), "body": NEW}
    )
    step_decisions.request_changes(
        revision=revision, reviewer=newsroom["checker"], message="Cite S/RES/2100 for the date."
    )
    editor = _signed_in(browser, newsroom["editor"], live_server)
    editor.goto(f"{live_server.url}/admin/")
    editor.get_by_role("link", name="Creation").first.click()
    assert "Cite S/RES/2100 for the date." in editor.locator(".changes-message").inner_text()
    editor.get_by_role("link", name="Amend this proposal").click()
    editor.fill("#id_body", NEW + " [Resolution 2100.]")
    editor.fill("#id_edit_summary", "Date of creation, with its resolution")
    editor.locator("input[name=_save]").click()
    assert "Resubmit it for review" in editor.locator(".messagelist").inner_text()
    editor.goto(f"{live_server.url}{revision.get_admin_url()}")
    editor.get_by_role("button", name="Resubmit for review").click()
    assert "back in review" in editor.locator(".messagelist").inner_text()
    editor.context.close()
    revision.refresh_from_db()
    assert revision.status == "pending" and revision.data["body"].endswith("[Resolution 2100.]")


@pytest.mark.parametrize("locale", ["en-GB", "fr-FR"], ids=["english", "french"])
def test_the_review_step_screens_have_no_axe_violations(browser, live_server, newsroom, locale):
    section = newsroom["section"]
    waiting = moderation.propose(
        obj=section, author=newsroom["editor"], summary="Date", data={**section.snapshot(), "body": NEW}
    )
    returned = moderation.propose(
        obj=section, author=newsroom["editor"], summary="Other", data={**section.snapshot(), "body": "Other."}
    )
    step_decisions.request_changes(revision=returned, reviewer=newsroom["checker"], message="Cite a source.")
    workflow = Workflow.objects.get()
    as_checker = {
        "review page at a step": waiting.get_admin_url(),
        "review queue with steps": "/admin/articles/revision/",
        "waiting for my step": "/admin/articles/revision/?step=mine",
    }
    as_author = {
        "returned proposal": returned.get_admin_url(),
        "admin index with a returned proposal": "/admin/",
    }
    root = factories.make_user("root", superuser=True)
    as_superuser = {
        "workflow list": "/admin/articles/workflow/",
        "workflow form": f"/admin/articles/workflow/{workflow.pk}/change/",
        "new workflow": "/admin/articles/workflow/add/",
    }
    problems = []
    for user, pages in ((newsroom["checker"], as_checker), (newsroom["editor"], as_author), (root, as_superuser)):
        for scheme in ("light", "dark"):
            problems += _axe_violations(
                browser,
                live_server.url,
                pages,
                color_scheme=scheme,
                user=user,
                live_server=live_server,
                locale=locale,
            )
    assert not problems, "axe-core found:\n" + "\n".join(problems)

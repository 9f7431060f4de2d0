"""In Chromium, without JavaScript: a conflict is settled stretch by stretch with three choices.

Two editors change the same words of one section in two places; after the first is approved, the
moderator sees each conflict in three columns with the conflicting words marked, the field named
as the form names it, and picks "Take proposal", "Keep published" or "Edit both" for each.
"""

import pytest

from articles.models import Revision, Section
from tests import factories
from tests.admin.test_merge_browser import edit_body, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BODY = (
    "MINUSMA was set up in 2013 with 11,200 troops.\n\n"
    "The force drew from many countries.\n\n"
    "The mission ended in 2023 at Mali's request.\n"
)


def test_conflicts_resolved_hunk_by_hunk_without_javascript(browser, live_server):
    moderator = factories.make_user("moderator", group="Moderator")
    factories.make_user("amina", group="Editor")
    factories.make_user("bakary", group="Editor")
    article = factories.article(moderator, title="Conflicts", slug="conflicts")
    section = factories.section(moderator, article, title="Missions", body=BODY)

    first = edit_body(browser, live_server, "amina", section, "set up in 2013", "set up in April 2013", "Month")
    first.fill("#id_body", first.input_value("#id_body").replace("many countries", "fifty-seven countries"))
    second = edit_body(browser, live_server, "bakary", section, "set up in 2013", "set up in July 2013", "Date")
    second.fill("#id_body", second.input_value("#id_body").replace("many countries", "over fifty countries"))
    first.click("input[name=_save]")
    second.click("input[name=_save]")
    first.close(), second.close()
    one, two = Revision.objects.filter(status="pending").order_by("pk")

    context = browser.new_context(java_script_enabled=False, viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    sign_in(page, live_server, "moderator", f"/admin/articles/revision/{one.pk}/change/")
    page.get_by_role("button", name="Approve and publish").click()
    page.get_by_text("Approved and published").wait_for()
    page.goto(f"{live_server.url}/admin/articles/revision/{two.pk}/change/")

    # "Before, as readers see it" is the live text (the first editor's, now published).
    # The newer changes are shown from the author's starting point to the text readers have now.
    columns = page.locator(".rendered-pair > div")
    readers_now = columns.filter(has=page.get_by_role("heading", name="Before, as readers see it", exact=True))
    assert readers_now.count() >= 1
    for index in range(readers_now.count()):
        assert "April 2013" in readers_now.nth(index).locator(".rendered").inner_text()
    since = columns.filter(has=page.get_by_role("heading", name="Now, as readers see it", exact=True))
    assert "April 2013" in since.locator(".rendered").inner_text()
    started = columns.filter(has=page.get_by_role("heading", name="When the author started", exact=True))
    assert "April" not in started.locator(".rendered").inner_text()

    # Each conflict on its own, named as the form names the field, the words marked in three columns.
    hunks = page.locator("fieldset.hunk")
    assert hunks.count() == 2
    assert page.locator(".conflict-field h3").inner_text() == "Text"
    assert "body" not in page.locator(".conflict-view").inner_text()
    first_hunk = hunks.nth(0)
    assert first_hunk.locator("legend").inner_text() == "Text: conflict 1 of 2"
    columns = first_hunk.locator(".hunk-text")
    assert columns.nth(0).locator(".hunk-empty").inner_text() == "(nothing)"  # both added a month
    assert columns.nth(1).locator("ins.hunk-words").inner_text().strip() == "April"
    assert columns.nth(2).locator("ins.hunk-words").inner_text().strip() == "July"
    assert "MINUSMA was set up in" in columns.nth(1).inner_text()  # the words around it
    columns = hunks.nth(1).locator(".hunk-text")
    assert columns.nth(0).locator("del.hunk-words").inner_text() == "many"
    assert columns.nth(1).locator("ins.hunk-words").inner_text() == "fifty-seven"
    assert columns.nth(2).locator("ins.hunk-words").inner_text() == "over fifty"
    page.screenshot(path="test-artifacts/conflict-hunks.png", full_page=True)

    first_hunk.get_by_label("Take proposal", exact=True).check()
    second_hunk = hunks.nth(1)
    second_hunk.get_by_label("Edit both", exact=True).check()
    assert second_hunk.locator("textarea").input_value() == "fifty-seven over fifty"
    second_hunk.locator("textarea").fill("some fifty-seven")
    page.get_by_role("button", name="Save the resolution").click()
    page.get_by_text("Conflicts resolved.").wait_for()
    page.get_by_role("button", name="Approve and publish").click()
    page.get_by_text("Approved and published").wait_for()
    context.close()

    body = Section.objects.get(pk=section.pk).body
    assert "set up in July 2013 with 11,200 troops" in body
    assert "The force drew from some fifty-seven countries." in body
    assert "<<<<<<<" not in body


def test_a_missing_choice_changes_nothing_and_says_so(client, django_user_model):
    moderator = factories.make_user("moderator", group="Moderator")
    editor = factories.make_user("amina", group="Editor")
    article = factories.article(moderator)
    section = factories.section(moderator, article, body=BODY)
    from articles.revisions import moderation

    base = section.live_revision_id
    obj = Section.objects.get(pk=section.pk)
    obj.body = BODY.replace("2013", "July 2013")
    pending = moderation.propose(obj=obj, author=editor, summary="July")
    obj = Section.objects.get(pk=section.pk)
    obj.body = BODY.replace("2013", "April 2013")
    moderation.publish_directly(obj=obj, moderator=moderator, summary="April")
    assert Revision.objects.get(pk=pending.pk).base_id == base
    client.force_login(moderator)
    response = client.post(f"/admin/articles/revision/{pending.pk}/resolve/", {"hunk_body_0": ""}, follow=True)
    assert "Choose a version for: Text." in response.content.decode()
    assert Revision.objects.get(pk=pending.pk).data["body"] == BODY.replace("2013", "July 2013")
    stale = client.post(
        f"/admin/articles/revision/{pending.pk}/resolve/",
        {"hunk_body_0": "proposed", "live_revision": base},
        follow=True,
    )
    assert "The published version changed while you were choosing" in stale.content.decode()
    assert Revision.objects.get(pk=pending.pk).data["body"] == BODY.replace("2013", "July 2013")

"""The editorial desk leads the way: the index says what waits, decisions lead to the next proposal,
the e-mail leads to the review page, and an editor's save leads back to the public page."""

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from articles.models import Revision
from articles.revisions import moderation
from articles.revisions.notifications import proposal_submitted
from tests import factories
from tests.adminforms import admin_form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def article(moderator):
    return factories.article(moderator, title="Deployments", slug="deployments")


def propose(section, author, body, summary="Fix"):
    return moderation.propose(obj=section, author=author, summary=summary, data={**section.snapshot(), "body": body})


def sections(moderator, article, count):
    return [
        factories.section(moderator, article, title=f"Part {n}", anchor=f"part-{n}", body=f"Text {n}.", position=n)
        for n in range(count)
    ]


def index_queries(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/admin/")
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_moderators_index_leads_to_the_oldest_proposal_in_constant_queries(client, editor, moderator, article):
    parts = sections(moderator, article, 6)
    oldest = propose(parts[0], editor, "Changed 0.")
    client.force_login(moderator)
    few, page = index_queries(client)
    assert "1 proposal waiting" in page
    assert f'href="/admin/articles/revision/{oldest.pk}/change/">review the oldest' in page
    for part in parts[1:]:
        propose(part, editor, "Changed.")
    many, page = index_queries(client)
    assert "6 proposals waiting" in page
    assert f'href="/admin/articles/revision/{oldest.pk}/change/">review the oldest' in page
    assert many == few, f"{few} queries with one proposal, {many} with six"


def test_editors_index_lists_their_pending_and_rejected_proposals_with_reasons(client, editor, moderator, article):
    parts = sections(moderator, article, 8)
    propose(parts[0], editor, "Changed.", summary="Tighten the wording")
    rejected = propose(parts[1], editor, "Wrong.", summary="Change the date")
    moderation.reject(revision=rejected, moderator=moderator, reason="The source says 2013.")
    client.force_login(editor)
    few, page = index_queries(client)
    assert "Your 1 pending proposal" in page and "Tighten the wording" in page
    assert "Change the date" in page and "The source says 2013." in page
    assert "proposals waiting" not in page, "editors do not moderate"
    for part in parts[2:]:
        propose(part, editor, "Changed.")
    many, page = index_queries(client)
    assert "Your 7 pending proposals" in page
    assert many == few, f"{few} queries with one pending proposal, {many} with seven"


def test_the_queue_has_one_name_in_the_menu_title_and_breadcrumbs(client, moderator):
    client.force_login(moderator)
    assert ">Review queue</a>" in client.get("/admin/").content.decode()
    page = client.get("/admin/articles/revision/").content.decode()
    assert "<title>Review queue |" in page and '<li aria-current="page">Review queue</li>' in page


def test_after_a_decision_the_moderator_lands_on_the_next_proposal_then_the_queue(client, editor, moderator, article):
    first, second = sections(moderator, article, 2)
    one, two = propose(first, editor, "One."), propose(second, editor, "Two.")
    client.force_login(moderator)
    response = client.post(f"/admin/articles/revision/{one.pk}/approve/")
    assert response.status_code == 302 and response["Location"] == f"/admin/articles/revision/{two.pk}/change/"
    response = client.post(f"/admin/articles/revision/{two.pk}/reject/", {"reason": "Unsourced."})
    assert response.status_code == 302 and response["Location"] == "/admin/articles/revision/"
    page = client.get(response["Location"]).content.decode()
    assert "Nothing else is waiting in the review queue." in page


def test_the_e_mail_links_to_the_review_page_through_the_sign_in(client, settings, editor, moderator, article):
    settings.SITE_URL = "https://history.example"
    (part,) = sections(moderator, article, 1)
    revision = propose(part, editor, "Changed.")
    mail.outbox = []
    proposal_submitted(revision)
    review = f"/admin/articles/revision/{revision.pk}/change/"
    assert f"Review it: https://history.example{review}\n" in mail.outbox[0].body
    assert "Review queue: https://history.example/admin/articles/revision/" in mail.outbox[0].body
    response = client.get(review)
    assert response.status_code == 302 and response["Location"] == f"/admin/login/?next={review}"


def _save_section(client, section, next_url, **extra):
    url = f"/admin/articles/section/{section.pk}/change/?next={next_url}"
    data = admin_form_data(client.get(url), body="Corrected.", edit_summary="Fix a typo", **extra)
    return client.post(url, data)


def test_after_saving_the_editor_is_back_on_the_public_page_told_it_waits(client, editor, moderator, article):
    (part,) = sections(moderator, article, 1)
    client.force_login(editor)
    response = _save_section(client, part, "/articles/deployments/%23part-0")
    assert response.status_code == 302 and response["Location"] == "/articles/deployments/#part-0"
    assert Revision.objects.pending().count() == 1
    page = client.get("/articles/deployments/").content.decode()
    assert "Submitted for review" in page and "Readers will see it once a moderator approves it." in page
    assert "Text 0." in page, "the published text stays until it is approved"


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/", "/admin/auth/user/"])
def test_a_foreign_or_admin_next_address_is_ignored(client, editor, moderator, article, next_url):
    (part,) = sections(moderator, article, 1)
    client.force_login(editor)
    response = _save_section(client, part, next_url)
    assert response.status_code == 302 and response["Location"] == "/admin/articles/section/"

"""Reviewers without an account: share links, the share page, and their comments reaching the editors."""

import datetime

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone

from articles.models import ModerationEvent, ReviewComment, ShareLink
from articles.revisions import moderation, sharing, step_decisions
from tests import factories

pytestmark = pytest.mark.django_db

BODY = "The Council set up the mission in April 2013. It was renewed in June 2014."


@pytest.fixture
def site(moderator, editor):
    article = factories.article(moderator, title="MINUSMA", slug="minusma")
    section = factories.section(
        moderator, article, title="Mandate", anchor="mandate", body="The mission began in 2013."
    )
    other = factories.section(moderator, article, title="Withdrawal", anchor="withdrawal", body="It left in 2023.")
    proposal = moderation.propose(
        obj=section, author=editor, summary="Dates", data={**section.snapshot(), "body": BODY}
    )
    return {"article": article, "section": section, "other": other, "proposal": proposal}


@pytest.fixture
def link(site, moderator):
    return sharing.share(moderator=moderator, revisions=[site["proposal"]], label="Prof. Diallo")


def _url(link):
    return sharing.path_for(link)


def _comment(client, link, **fields):
    data = {"name": "Awa Diallo", "email": "awa@example.net", "body": "The renewal was in 2014, yes.", "quote": ""}
    data["revision"] = str(link.revisions.get().pk)
    data.update(fields)
    return client.post(_url(link), data)


# --- Links -------------------------------------------------------------------------------------


def test_a_link_is_signed_and_names_only_itself(link):
    token = sharing.token_for(link)
    assert sharing.link_for_token(token) == link
    pk, _, rest = token.partition(".")
    assert sharing.link_for_token(f"{int(pk) + 1}.{rest}") is None  # another number, same signature
    assert sharing.link_for_token(token[:-2] + "xx") is None
    assert sharing.link_for_token("1.abc") is None


def test_making_a_link_is_for_moderators_and_goes_on_the_trail(site, editor, moderator, link, settings):
    with pytest.raises(PermissionDenied):
        sharing.share(moderator=editor, revisions=[site["proposal"]])
    assert ShareLink.objects.count() == 1
    assert link.expires_at - timezone.now() > datetime.timedelta(days=13, hours=23)
    event = site["proposal"].events.get(kind=ModerationEvent.Kind.SHARED)
    assert "Prof. Diallo" in event.note and event.actor == moderator
    settings.SHARE_LINK_DAYS = 3
    shorter = sharing.share(moderator=moderator, revisions=[site["proposal"]])
    assert shorter.expires_at - timezone.now() < datetime.timedelta(days=3, minutes=1)
    with pytest.raises(ValidationError):
        sharing.share(moderator=moderator, revisions=[site["proposal"]], days=400)


def test_a_link_to_an_article_shows_everything_pending_for_it(site, moderator, editor, client):
    other = site["other"]
    second = moderation.propose(
        obj=other, author=editor, summary="Year", data={**other.snapshot(), "body": "It left in December 2023."}
    )
    link = sharing.share(moderator=moderator, revisions=moderation_pending(site["article"]), article=site["article"])
    assert set(link.revisions.all()) == {site["proposal"], second}
    page = client.get(_url(link)).content.decode()
    assert "April 2013" in page and "December 2023" in page
    assert page.count('name="revision"') == 1  # one choice of which change the comment is about
    assert f'<option value="{second.pk}">' in page


def moderation_pending(article):
    from articles.models import Revision

    return list(Revision.objects.pending_for_article(article))


# --- The share page ----------------------------------------------------------------------------


def test_the_page_shows_the_changes_and_the_article_with_them_and_nothing_to_approve(client, link):
    response = client.get(_url(link))
    assert response.status_code == 200
    page = response.content.decode()
    assert "<ins>April</ins>" in page or "April" in page
    assert "renewed in June 2014" in page  # the article preview has the proposed text
    assert "It left in 2023." in page  # and the rest of the article
    assert "Approve" not in page and "/admin/" not in page
    assert '<meta name="robots" content="noindex, nofollow, noarchive">' in page
    assert response["X-Robots-Tag"] == "noindex, nofollow, noarchive"
    assert response["Referrer-Policy"] == "same-origin"
    assert "no-cache" in response["Cache-Control"] and "private" in response["Cache-Control"]


def test_the_page_is_never_kept_by_the_page_cache(settings, link, moderator):
    settings.PUBLIC_PAGE_CACHE = True
    anonymous = Client()
    assert anonymous.get(_url(link)).status_code == 200
    assert anonymous.get(_url(link)).status_code == 200
    sharing.revoke(link=link, moderator=moderator)
    response = anonymous.get(_url(link))
    assert response.status_code == 410
    assert "withdrawn this link" in response.content.decode()


def test_the_page_comes_in_french(client, link):
    response = client.get("/fr" + _url(link))
    assert response.status_code == 200
    page = response.content.decode()
    assert '<html lang="fr">' in page
    assert "Votre commentaire" in page


def test_an_outside_comment_reaches_the_author_and_the_moderators(
    client, link, site, editor, moderator, django_capture_on_commit_callbacks, run_tasks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = _comment(client, link, quote="renewed in  June 2014")
    assert response.status_code == 302 and response["Location"].endswith("?sent=1#comment-form")
    comment = ReviewComment.objects.get()
    assert (comment.author, comment.author_name, comment.author_email) == (None, "Awa Diallo", "awa@example.net")
    assert comment.share_link == link and comment.is_outside
    assert (comment.field, comment.quote) == ("body", "renewed in June 2014")
    event = site["proposal"].events.get(kind=ModerationEvent.Kind.OUTSIDE_COMMENT)
    assert event.actor_name == "Awa Diallo" and event.note == "The renewal was in 2014, yes."
    run_tasks()
    assert sorted(m.to[0] for m in mail.outbox) == [editor.email, moderator.email]
    assert "outside reviewer, awa@example.net" in mail.outbox[0].body
    assert "Thank you." in client.get(response["Location"]).content.decode()


def test_a_comment_needs_a_name_an_address_and_words_that_are_in_the_change(client, link):
    assert _comment(client, link, name="").status_code == 400
    assert _comment(client, link, email="not an address").status_code == 400
    response = _comment(client, link, quote="in 1999")
    assert response.status_code == 200
    assert "These words are not in the proposed text" in response.content.decode()
    assert not ReviewComment.objects.exists()


def test_the_honeypot_stores_nothing(client, link):
    response = _comment(client, link, website="http://spam.example")
    assert response.status_code == 302
    assert not ReviewComment.objects.exists()


def test_comments_are_limited_per_address(client, link, settings):
    from articles.revisions import comments

    for _ in range(comments.OUTSIDE_LIMIT):
        assert _comment(client, link).status_code == 302
    response = _comment(client, link)
    assert response.status_code == 429
    assert ReviewComment.objects.count() == comments.OUTSIDE_LIMIT


def test_posting_needs_the_csrf_token(link):
    strict = Client(enforce_csrf_checks=True)
    assert _comment(strict, link).status_code == 403
    assert not ReviewComment.objects.exists()


def test_a_made_up_link_is_not_found(client):
    assert client.get("/review/12.abcdef:xyz/").status_code == 404


@pytest.mark.parametrize("how", ["revoked", "expired", "approved", "rejected"])
def test_a_link_stops_working_once_revoked_expired_or_decided(how, client, link, site, moderator):
    if how == "revoked":
        sharing.revoke(link=link, moderator=moderator)
    elif how == "expired":
        ShareLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    elif how == "approved":
        moderation.approve(revision=site["proposal"], moderator=moderator)
    else:
        moderation.reject(revision=site["proposal"], moderator=moderator, reason="No.")
    response = client.get(_url(link))
    assert response.status_code == 410
    assert "This review link no longer works" in response.content.decode()
    assert response["X-Robots-Tag"].startswith("noindex")
    assert _comment(client, link).status_code == 410
    assert not ReviewComment.objects.exists()


def test_a_link_keeps_working_while_the_proposal_is_back_with_its_author(client, link, site, moderator):
    """Changes requested is not a decision: the outside reviewer may still comment on the proposal."""
    step_decisions.request_changes(revision=site["proposal"], reviewer=moderator, message="Cite the resolution.")
    response = client.get(_url(link))
    assert response.status_code == 200 and "renewed in June 2014" in response.content.decode()
    assert _comment(client, link).status_code in (200, 302)
    assert ReviewComment.objects.get().revision == site["proposal"]


def test_a_source_proposal_is_shown_without_an_article(client, moderator, editor):
    source = factories.source(moderator, title="Report on Mali")
    proposal = moderation.propose(
        obj=source, author=editor, summary="Title", data={**source.snapshot(), "title": "Report on northern Mali"}
    )
    link = sharing.share(moderator=moderator, revisions=[proposal])
    response = client.get(_url(link))
    assert response.status_code == 200
    page = response.content.decode()
    assert "northern" in page
    assert "The article with these changes" not in page


# --- Valid HTML, and French throughout -----------------------------------------------------------


def test_the_new_pages_are_valid_html_with_unique_ids(client, link, site, moderator, editor):
    import html5lib

    from articles.revisions import comments
    from tests.reading.test_html_validity import problems_in

    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    thread = comments.add_comment(
        revision=site["proposal"], user=moderator, body="Source?", field="body", quote="June 2014"
    )
    comments.add_comment(revision=site["proposal"], user=editor, body="2164.", parent=thread)
    problems = []
    for prefix in ("", "/fr"):
        problems += problems_in(client.get(prefix + _url(link)).content.decode(), parser)
    staff = Client()
    staff.force_login(moderator)
    for path in (
        f"/admin/articles/revision/{site['proposal'].pk}/change/",
        f"/admin/articles/article/{site['article'].pk}/review/",
    ):
        problems += problems_in(staff.get(path, HTTP_ACCEPT_LANGUAGE="fr").content.decode(), parser)
    sharing.revoke(link=link, moderator=moderator)
    problems += problems_in(client.get(_url(link)).content.decode(), parser)
    assert not problems, problems


def test_the_french_share_pages_have_no_english_interface_string(client, link, moderator):
    import re

    from tests.reading.test_french import InterfaceText, catalogue_strings

    english = catalogue_strings()
    pages = [client.get("/fr" + _url(link)).content.decode()]
    sharing.revoke(link=link, moderator=moderator)
    pages.append(client.get("/fr" + _url(link)).content.decode())
    for html in pages:
        interface = InterfaceText.of(html, content=["MINUSMA", "Mandate", "Withdrawal"])
        leftovers = [s for s in english if re.search(rf"(?<!\w){re.escape(s)}(?!\w)", interface)]
        assert not leftovers, leftovers

"""Tests for the editors' admin: a smoke test per ModelAdmin, form validation, and saves that become revisions."""

import io

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from articles.models import (
    Article,
    Figure,
    ModerationEvent,
    PublicationState,
    Revision,
    RevisionAction,
    RevisionStatus,
    Section,
    Source,
    Topic,
)
from articles.revisions import moderation
from tests import factories

pytestmark = pytest.mark.django_db

MODELS = [Article, Section, Topic, Source, Figure, Revision, ModerationEvent]
READ_ONLY_MODELS = {Revision, ModerationEvent}


def png_upload(name="map.png"):
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (30, 120, 200)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def admin_url(model, view, *args):
    return reverse(f"admin:articles_{model._meta.model_name}_{view}", args=args)


def page_text(response):
    return response.content.decode()


def message_texts(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def content(moderator, editor):
    """One published object of each kind, the revisions and events publishing records, and one proposal."""
    article = factories.article(moderator, title="Operation Serval", slug="operation-serval")
    topic = factories.topic(moderator, name="France", slug="france")
    source = factories.source(moderator, key="unsc-res-2100", title="Resolution 2100")
    section = factories.section(
        moderator,
        article,
        topics=[topic],
        title="The intervention",
        anchor="intervention",
        position=1,
        body="French troops landed in January 2013 [@unsc-res-2100].",
    )
    figure = factories.figure(moderator, png_upload(), alt_text="Gao airport", caption="Gao airport, 2013")
    proposal = moderation.propose(
        obj=topic,
        author=editor,
        summary="Say more about Serval",
        data={**topic.snapshot(), "summary": "Operation Serval and after"},
    )
    return {
        Article: article,
        Section: section,
        Topic: topic,
        Source: source,
        Figure: figure,
        Revision: proposal,
        ModerationEvent: proposal.events.get(),
    }


def section_post_data(section, **overrides):
    data = {
        "article": section.article_id,
        "title": section.title,
        "body": section.body,
        "topics": [t.pk for t in section.topics.all()],
        "parent": section.parent_id or "",
        "position": section.position,
        "anchor": section.anchor,
        "edit_summary": "Clarify the landing date",
    }
    data.update(overrides)
    return data


def source_post_data(**overrides):
    data = {
        "key": "mann-2015",
        "kind": "book",
        "title": "From Empires to NGOs in the West African Sahel",
        "authors": "",
        "publisher": "Cambridge University Press",
        "container_title": "",
        "date_year": "2015",
        "date_month": "",
        "date_day": "",
        "url": "",
        "accessed_on": "",
        "identifier": "",
        "notes": "",
        "edit_summary": "Add Mann's book",
    }
    data.update(overrides)
    return data


def article_post_data(article, sections, *, section_overrides=None, **overrides):
    """The article change form plus its inline section formset (prefix "sections")."""
    data = {
        "title": article.title,
        "slug": article.slug,
        "dek": article.dek,
        "lead_figure": article.lead_figure_id or "",
        "edit_summary": "Edit through the article page",
        "sections-TOTAL_FORMS": str(len(sections)),
        "sections-INITIAL_FORMS": str(len(sections)),
        "sections-MIN_NUM_FORMS": "0",
        "sections-MAX_NUM_FORMS": "1000",
    }
    for i, section in enumerate(sections):
        data.update(
            {
                f"sections-{i}-id": section.pk,
                f"sections-{i}-article": article.pk,
                f"sections-{i}-title": section.title,
                f"sections-{i}-anchor": section.anchor,
                f"sections-{i}-parent": section.parent_id or "",
                f"sections-{i}-position": section.position,
                f"sections-{i}-body": section.body,
                f"sections-{i}-topics": [t.pk for t in section.topics.all()],
            }
        )
    for name, value in (section_overrides or {}).items():
        data[f"sections-0-{name}"] = value
    data.update(overrides)
    return data


# --- Smoke test per ModelAdmin ---------------------------------------------------------------


@pytest.fixture(params=["moderator", "superuser"])
def staff_client(request, client):
    client.force_login(request.getfixturevalue(request.param))
    return client


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.model_name)
def test_admin_pages_open(staff_client, content, model):
    obj = content[model]

    changelist = staff_client.get(admin_url(model, "changelist"))
    assert changelist.status_code == 200
    assert changelist.context["cl"].result_count >= 1

    search = staff_client.get(admin_url(model, "changelist"), {"q": "Serval"})
    assert search.status_code == 200

    add = staff_client.get(admin_url(model, "add"))
    assert add.status_code == (403 if model in READ_ONLY_MODELS else 200)

    change = staff_client.get(admin_url(model, "change", obj.pk))
    assert change.status_code == 200


@pytest.mark.parametrize(
    "model, term, found",
    [
        (Article, "Serval", "Operation Serval"),
        (Section, "intervention", "The intervention"),
        (Topic, "France", "France"),
        (Source, "2100", "unsc-res-2100"),
        (Figure, "Gao", "Gao airport"),
        (Revision, "intervention", "The intervention"),
    ],
    ids=lambda v: v._meta.model_name if hasattr(v, "_meta") else None,
)
def test_admin_search_finds_the_object(moderator_client, content, model, term, found):
    filters = {"status": "all"} if model is Revision else {}
    response = moderator_client.get(admin_url(model, "changelist"), {"q": term, **filters})
    assert response.context["cl"].result_count >= 1
    assert found in page_text(response)
    empty = moderator_client.get(admin_url(model, "changelist"), {"q": "zzz-no-such-thing", **filters})
    assert empty.context["cl"].result_count == 0


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.model_name)
def test_bulk_delete_is_not_offered(staff_client, content, model):
    response = staff_client.get(admin_url(model, "changelist"))
    assert 'value="delete_selected"' not in page_text(response)


def test_editor_can_open_the_content_changelists(editor_client, content):
    for model in MODELS:
        assert editor_client.get(admin_url(model, "changelist")).status_code == 200


def test_view_on_site_link_for_a_published_article(moderator_client, content):
    article = content[Article]
    response = moderator_client.get(admin_url(Article, "change", article.pk))
    assert "View on site" in page_text(response)
    link = response.context["absolute_url"]
    redirect = moderator_client.get(link)
    assert redirect.status_code == 302
    assert redirect["Location"].endswith("/articles/operation-serval/")


# --- Validation errors -----------------------------------------------------------------------


def test_unknown_citation_key_in_a_section_is_a_form_error(editor_client, content):
    section = content[Section]
    revisions_before = Revision.objects.count()
    response = editor_client.post(
        admin_url(Section, "change", section.pk),
        section_post_data(section, body="Troops landed [@unsc-res-2100] and left [@no-such-source]."),
    )
    assert response.status_code == 200
    assert "No source has the citation key “no-such-source”" in page_text(response)
    assert "unsc-res-2100”" not in str(response.context["adminform"].form.errors)
    assert Revision.objects.count() == revisions_before
    section.refresh_from_db()
    assert "no-such-source" not in section.body


def test_unknown_citation_key_in_an_inline_section_is_a_form_error(moderator_client, content):
    article, section = content[Article], content[Section]
    revisions_before = Revision.objects.count()
    response = moderator_client.post(
        admin_url(Article, "change", article.pk),
        article_post_data(
            article,
            [section],
            section_overrides={"body": "See [@ghost-key]."},
            dek="A new introduction.",
            publish_now="on",
        ),
    )
    assert response.status_code == 200
    assert "No source has the citation key “ghost-key”" in page_text(response)
    assert Revision.objects.count() == revisions_before
    article.refresh_from_db()
    section.refresh_from_db()
    assert article.dek == "An introduction."
    assert "ghost-key" not in section.body


def test_missing_edit_summary_is_a_form_error(editor_client, content):
    section = content[Section]
    revisions_before = Revision.objects.count()
    response = editor_client.post(
        admin_url(Section, "change", section.pk), section_post_data(section, body="Changed.", edit_summary="   ")
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["edit_summary"] == ["Write a short edit summary: what did you change, and why?"]
    assert "Write a short edit summary" in page_text(response)
    assert Revision.objects.count() == revisions_before


def test_duplicate_source_key_is_a_form_error(moderator_client, content):
    sources_before = Source.objects.count()
    response = moderator_client.post(admin_url(Source, "add"), source_post_data(key="unsc-res-2100", publish_now="on"))
    assert response.status_code == 200
    assert "Source with this Citation key already exists." in page_text(response)
    assert Source.objects.count() == sources_before


def test_fake_image_upload_is_a_readable_error(moderator_client, content):
    figures_before = Figure.objects.count()
    fake = SimpleUploadedFile("photo.png", b"<html><script>alert(1)</script></html>", content_type="image/png")
    response = moderator_client.post(
        admin_url(Figure, "add"),
        {
            "image": fake,
            "alt_text": "A photo",
            "caption": "",
            "credit": "",
            "licence": "",
            "edit_summary": "Add a photo",
            "publish_now": "on",
        },
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["image"]
    assert any("not an image" in error or "valid image" in error for error in errors), errors
    assert Figure.objects.count() == figures_before


# --- Saves become revisions ------------------------------------------------------------------


def test_editor_change_is_submitted_for_review_and_not_live(editor_client, client, content):
    section = content[Section]
    article_url = section.article.get_absolute_url()
    response = editor_client.post(
        admin_url(Section, "change", section.pk),
        section_post_data(section, body="French and Chadian troops landed in January 2013 [@unsc-res-2100]."),
    )
    assert response.status_code == 302
    assert any(text.startswith("Submitted for review: “The intervention”") for text in message_texts(response))

    revision = Revision.objects.for_object(section).pending().get()
    assert revision.action == RevisionAction.CHANGE
    assert revision.author.username == "editor"
    assert "Chadian" in revision.data["body"]

    section.refresh_from_db()
    assert "Chadian" not in section.body
    client.logout()
    public = client.get(article_url)
    assert "French troops landed in January 2013" in page_text(public)
    assert "Chadian" not in page_text(public)


def test_only_moderators_see_publish_now(editor, moderator, content):
    url = admin_url(Section, "change", content[Section].pk)
    editor_client, moderator_client = Client(), Client()
    editor_client.force_login(editor)
    moderator_client.force_login(moderator)
    assert 'name="publish_now"' not in page_text(editor_client.get(url))
    assert 'name="publish_now"' in page_text(moderator_client.get(url))


def test_editor_cannot_publish_by_posting_publish_now(editor_client, content):
    section = content[Section]
    editor_client.post(
        admin_url(Section, "change", section.pk),
        section_post_data(section, body="Sneaky change [@unsc-res-2100].", publish_now="on"),
    )
    section.refresh_from_db()
    assert "Sneaky" not in section.body
    assert Revision.objects.for_object(section).pending().count() == 1


def test_moderator_change_with_publish_now_is_live_at_once(moderator_client, client, content):
    section = content[Section]
    response = moderator_client.post(
        admin_url(Section, "change", section.pk),
        section_post_data(section, body="French and Chadian troops landed [@unsc-res-2100].", publish_now="on"),
    )
    assert response.status_code == 302
    assert any(
        text.startswith("Published: “The intervention”. Readers see it now.") for text in message_texts(response)
    )

    section.refresh_from_db()
    assert "Chadian" in section.body
    assert section.live_revision.status == RevisionStatus.PUBLISHED
    assert section.live_revision.author.username == "moderator"
    assert not Revision.objects.for_object(section).pending().exists()
    client.logout()
    assert "French and Chadian troops landed" in page_text(client.get(section.article.get_absolute_url()))


def test_moderator_change_without_publish_now_waits_for_review(moderator_client, content):
    section = content[Section]
    moderator_client.post(
        admin_url(Section, "change", section.pk), section_post_data(section, body="Changed [@unsc-res-2100].")
    )
    section.refresh_from_db()
    assert section.body.startswith("French troops")
    assert Revision.objects.for_object(section).pending().count() == 1


def test_moderator_edits_a_section_through_the_article_inline(moderator_client, client, content):
    article, section = content[Article], content[Section]
    response = moderator_client.post(
        admin_url(Article, "change", article.pk),
        article_post_data(
            article, [section], section_overrides={"body": "Inline edit [@unsc-res-2100]."}, publish_now="on"
        ),
    )
    assert response.status_code == 302
    section.refresh_from_db()
    assert section.body == "Inline edit [@unsc-res-2100]."
    # The article itself did not change, so only the section got a new revision.
    assert Revision.objects.for_object(article).count() == 1
    client.logout()
    assert "Inline edit" in page_text(client.get(article.get_absolute_url()))


def test_saving_an_unchanged_form_submits_nothing(editor_client, content):
    section = content[Section]
    revisions_before = Revision.objects.count()
    response = editor_client.post(admin_url(Section, "change", section.pk), section_post_data(section))
    assert response.status_code == 302
    assert "Nothing changed, so nothing was submitted." in message_texts(response)
    assert Revision.objects.count() == revisions_before


def test_source_authors_one_per_line_round_trip(moderator_client, content):
    response = moderator_client.post(
        admin_url(Source, "add"),
        source_post_data(authors="Gregory Mann\r\n\r\n  Bruce Whitehouse  \r\n", publish_now="on"),
    )
    assert response.status_code == 302
    source = Source.objects.get(key="mann-2015")
    assert source.authors == ["Gregory Mann", "Bruce Whitehouse"]
    assert source.state == PublicationState.LIVE
    assert source.live_revision.data["authors"] == ["Gregory Mann", "Bruce Whitehouse"]

    change = moderator_client.get(admin_url(Source, "change", source.pk))
    assert "Gregory Mann\nBruce Whitehouse</textarea>" in page_text(change)

    # Posting the form back as shown changes nothing.
    unchanged = moderator_client.post(
        admin_url(Source, "change", source.pk),
        source_post_data(authors="Gregory Mann\r\nBruce Whitehouse", publish_now="on"),
    )
    assert "Nothing changed, so nothing was submitted." in message_texts(unchanged)
    assert Revision.objects.for_object(source).count() == 1


def test_editor_adds_a_source_as_a_draft_waiting_for_review(editor_client, client, content):
    response = editor_client.post(admin_url(Source, "add"), source_post_data(authors="Gregory Mann"))
    assert response.status_code == 302
    source = Source.objects.get(key="mann-2015")
    assert source.state == PublicationState.DRAFT
    revision = Revision.objects.for_object(source).pending().get()
    assert revision.action == RevisionAction.CREATE
    assert revision.data["authors"] == ["Gregory Mann"]
    client.logout()
    assert client.get("/sources/mann-2015/").status_code == 404


def test_moderator_adds_an_article_with_a_new_section_inline(moderator_client, client, content):
    topic = content[Topic]
    data = {
        "title": "Operation Barkhane",
        "slug": "operation-barkhane",
        "dek": "France's regional mission.",
        "lead_figure": "",
        "edit_summary": "New article on Barkhane",
        "publish_now": "on",
        "sections-TOTAL_FORMS": "1",
        "sections-INITIAL_FORMS": "0",
        "sections-MIN_NUM_FORMS": "0",
        "sections-MAX_NUM_FORMS": "1000",
        "sections-0-id": "",
        "sections-0-article": "",
        "sections-0-title": "Launch",
        "sections-0-anchor": "launch",
        "sections-0-parent": "",
        "sections-0-position": "1",
        "sections-0-body": "Barkhane replaced Serval in August 2014 [@unsc-res-2100, para. 3].",
        "sections-0-topics": [topic.pk],
    }
    response = moderator_client.post(admin_url(Article, "add"), data)
    assert response.status_code == 302
    article = Article.objects.get(slug="operation-barkhane")
    section = article.sections.get()
    assert article.state == section.state == PublicationState.LIVE
    assert list(section.topics.all()) == [topic]
    client.logout()
    page = page_text(client.get("/articles/operation-barkhane/"))
    assert "Barkhane replaced Serval in August 2014" in page
    assert 'href="/topics/france/"' in page


def test_editor_deletes_a_section_through_the_article_inline(editor_client, client, content):
    article, section = content[Article], content[Section]
    response = editor_client.post(
        admin_url(Article, "change", article.pk),
        article_post_data(
            article, [section], section_overrides={"DELETE": "on"}, edit_summary="The section repeats the introduction"
        ),
    )
    assert response.status_code == 302
    assert any(text.startswith("Submitted for review: “The intervention”") for text in message_texts(response))
    revision = Revision.objects.for_object(section).pending().get()
    assert revision.action == RevisionAction.DELETE
    assert revision.summary == "The section repeats the introduction"
    section.refresh_from_db()
    assert section.state == PublicationState.LIVE
    client.logout()
    assert "The intervention" in page_text(client.get(article.get_absolute_url()))

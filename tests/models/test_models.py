"""Tests for articles.models: database constraints, validation messages, citation formatting, published() and URLs."""

import datetime
import io

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from PIL import Image

from articles.models import (
    Article,
    Citation,
    Figure,
    ModerationEvent,
    PublicationState,
    Revision,
    RevisionAction,
    RevisionStatus,
    Section,
    Source,
    SourceKind,
    Topic,
)
from articles.revisions import moderation
from tests import factories

pytestmark = pytest.mark.django_db


def png_upload(name="map.png"):
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def draft_article(slug):
    return Article.objects.create(title=slug.title(), slug=slug)


def draft_section(article, anchor, **fields):
    return Section.objects.create(article=article, title=anchor.title(), anchor=anchor, **fields)


def messages_of(error, field):
    return error.message_dict[field]


# --- Constraints in the database -------------------------------------------------------------


def test_duplicate_source_key_is_refused_by_the_database():
    Source.objects.create(key="unsc-res-2100", title="Resolution 2100")
    with pytest.raises(IntegrityError), transaction.atomic():
        Source.objects.create(key="unsc-res-2100", title="Another resolution")
    assert Source.objects.filter(key="unsc-res-2100").count() == 1


def test_duplicate_section_anchor_within_one_article_is_refused():
    article = draft_article("mali")
    draft_section(article, "background")
    with pytest.raises(IntegrityError), transaction.atomic():
        draft_section(article, "background")
    assert article.sections.count() == 1


def test_same_section_anchor_is_allowed_in_two_articles():
    first, second = draft_article("mali"), draft_article("minusma")
    draft_section(first, "background")
    draft_section(second, "background")
    assert Section.objects.filter(anchor="background").count() == 2


def test_source_month_13_is_refused_by_the_database():
    with pytest.raises(IntegrityError), transaction.atomic():
        Source.objects.create(key="bad-month", title="Bad month", date_year=2013, date_month=13)
    assert not Source.objects.filter(key="bad-month").exists()


def test_source_day_without_month_is_refused_by_the_database():
    with pytest.raises(IntegrityError), transaction.atomic():
        Source.objects.create(key="bad-day", title="Day, no month", date_year=2013, date_day=25)
    assert not Source.objects.filter(key="bad-day").exists()


def test_rejected_revision_without_reason_is_refused_by_the_database():
    article = draft_article("mali")
    fields = {
        "content_type": ContentType.objects.get_for_model(Article),
        "object_id": article.pk,
        "object_repr": str(article),
        "status": RevisionStatus.REJECTED,
        "decided_at": timezone.now(),
        "summary": "Tidy the introduction",
    }
    with pytest.raises(IntegrityError), transaction.atomic():
        Revision.objects.create(**fields)
    rejected = Revision.objects.create(**fields, decision_note="Unsourced claim.")
    assert rejected.status == RevisionStatus.REJECTED


# --- Validation messages ---------------------------------------------------------------------


def test_source_clean_refuses_an_impossible_date():
    source = Source(key="feb-30", title="February 30", date_year=2013, date_month=2, date_day=30)
    with pytest.raises(ValidationError) as caught:
        source.full_clean()
    assert messages_of(caught.value, "date_day") == ["This day does not exist in that month."]


def test_source_clean_accepts_a_leap_day():
    Source(key="feb-29", title="February 29", date_year=2012, date_month=2, date_day=29).full_clean()


def test_source_clean_refuses_authors_that_are_not_a_list():
    source = Source(key="one-string", title="Authors as one string", authors="Gregory Mann, Bruce Whitehouse")
    with pytest.raises(ValidationError) as caught:
        source.full_clean()
    assert messages_of(caught.value, "authors") == ["Give the authors as a list of names."]


def test_source_clean_refuses_blank_author_names():
    source = Source(key="blank-author", title="Blank author", authors=["Gregory Mann", "  "])
    with pytest.raises(ValidationError) as caught:
        source.full_clean()
    assert "authors" in caught.value.message_dict


def test_section_clean_refuses_a_subsection_of_a_subsection():
    article = draft_article("mali")
    main = draft_section(article, "main")
    sub = draft_section(article, "sub", parent=main)
    deeper = Section(article=article, title="Deeper", anchor="deeper", parent=sub)
    with pytest.raises(ValidationError) as caught:
        deeper.full_clean()
    assert messages_of(caught.value, "parent") == [
        "Subsections cannot have subsections of their own: choose a main section."
    ]


def test_section_clean_refuses_a_parent_from_another_article():
    parent = draft_section(draft_article("mali"), "main")
    section = Section(article=draft_article("minusma"), title="Elsewhere", anchor="elsewhere", parent=parent)
    with pytest.raises(ValidationError) as caught:
        section.full_clean()
    assert messages_of(caught.value, "parent") == ["The parent section belongs to another article."]


def test_section_clean_accepts_a_subsection_of_a_main_section():
    article = draft_article("mali")
    main = draft_section(article, "main")
    Section(article=article, title="Sub", anchor="sub", parent=main).full_clean()


# --- Chicago-style formatting ----------------------------------------------------------------


def un_resolution(**fields):
    return Source(
        key="unsc-res-2100",
        kind=SourceKind.UN_DOCUMENT,
        title="Resolution 2100 (2013)",
        publisher="United Nations Security Council",
        identifier="S/RES/2100 (2013)",
        date_year=2013,
        date_month=4,
        date_day=25,
        **fields,
    )


def book(authors):
    return Source(
        key="book",
        kind=SourceKind.BOOK,
        title="From Empires to NGOs in the West African Sahel",
        authors=authors,
        publisher="Cambridge University Press",
        date_year=2015,
    )


def test_un_document_note_has_symbol_and_full_date():
    assert un_resolution().format_note() == (
        "“Resolution 2100 (2013),” United Nations Security Council, S/RES/2100 (2013), April 25, 2013."
    )


def test_un_document_note_with_locator():
    assert un_resolution().format_note("para. 7").endswith("S/RES/2100 (2013), April 25, 2013, para. 7.")


def test_un_document_bibliography_entry():
    assert un_resolution().format_bibliography() == (
        "“Resolution 2100 (2013).” United Nations Security Council, S/RES/2100 (2013), April 25, 2013."
    )


def test_date_display_with_year_or_month_only():
    assert Source(date_year=2013).date_display == "2013"
    assert Source(date_year=2013, date_month=1).date_display == "January 2013"
    assert Source().date_display == ""


def test_book_with_one_author():
    source = book(["Gregory Mann"])
    title = "<cite>From Empires to NGOs in the West African Sahel</cite>"
    assert source.format_note("45") == f"Gregory Mann, {title}, Cambridge University Press, 2015, 45."
    assert source.format_bibliography() == f"Mann, Gregory. {title}. Cambridge University Press, 2015."


def test_book_with_two_authors():
    source = book(["Gregory Mann", "Bruce Whitehouse"])
    assert source.format_note().startswith("Gregory Mann and Bruce Whitehouse, <cite>")
    assert source.format_bibliography().startswith("Mann, Gregory, and Bruce Whitehouse. <cite>")


def test_book_with_three_authors_lists_all_in_the_note():
    source = book(["Gregory Mann", "Bruce Whitehouse", "Isaie Dougnon"])
    assert source.format_note().startswith("Gregory Mann, Bruce Whitehouse, and Isaie Dougnon, <cite>")


def test_book_with_four_authors_uses_et_al_in_the_note_but_lists_all_in_the_bibliography():
    source = book(["Gregory Mann", "Bruce Whitehouse", "Isaie Dougnon", "Baz Lecocq"])
    assert source.format_note().startswith("Gregory Mann et al., <cite>")
    assert source.format_bibliography().startswith(
        "Mann, Gregory, Bruce Whitehouse, Isaie Dougnon, and Baz Lecocq. <cite>"
    )


def test_web_page_with_url_and_access_date():
    source = Source(
        key="minusma-facts",
        kind=SourceKind.WEB_PAGE,
        title="MINUSMA Fact Sheet",
        publisher="United Nations Peacekeeping",
        url="https://peacekeeping.un.org/en/mission/minusma",
        accessed_on=datetime.date(2023, 6, 30),
    )
    link = '<a href="https://peacekeeping.un.org/en/mission/minusma">https://peacekeeping.un.org/en/mission/minusma</a>'
    assert source.format_note() == (
        f"United Nations Peacekeeping, “MINUSMA Fact Sheet.” Accessed June 30, 2023. {link}"
    )
    assert source.format_bibliography() == (
        f"United Nations Peacekeeping. “MINUSMA Fact Sheet.” Accessed June 30, 2023. {link}"
    )


def test_journal_article_names_the_journal_in_italics():
    source = Source(
        key="lecocq-2013",
        kind=SourceKind.JOURNAL_ARTICLE,
        title="Mali: This Is Only the Beginning",
        authors=["Baz Lecocq"],
        container_title="Concord Review",
        date_year=2013,
    )
    assert source.format_note() == "Baz Lecocq, “Mali: This Is Only the Beginning,” <cite>Concord Review</cite>, 2013."


def test_formatting_escapes_markup_in_titles():
    source = Source(key="x", kind=SourceKind.BOOK, title="<script>alert(1)</script> & more", date_year=2020)
    note = source.format_note()
    assert "<script>" not in note
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in note


# --- published() -----------------------------------------------------------------------------


def test_published_querysets_exclude_drafts_and_deleted(moderator):
    live = factories.article(moderator, title="Live")
    deleted = factories.article(moderator, title="Deleted")
    moderation.publish_directly(obj=deleted, moderator=moderator, summary="Remove", action=RevisionAction.DELETE)
    draft = draft_article("draft")
    assert list(Article.objects.published()) == [live]

    topic = factories.topic(moderator)
    Topic.objects.create(name="Draft topic", slug="draft-topic")
    assert list(Topic.objects.published()) == [topic]

    source = factories.source(moderator)
    Source.objects.create(key="draft-source", title="Draft source")
    assert list(Source.objects.published()) == [source]

    section = factories.section(moderator, live)
    draft_section(live, "draft-section")
    factories.section(moderator, draft)  # a live section in a draft article
    assert list(Section.objects.filter(article=live).published()) == [section]
    assert list(Section.objects.visible()) == [section]


def test_cited_in_article_lists_published_sources_cited_by_published_sections(moderator):
    article = factories.article(moderator)
    cited = factories.source(moderator, title="B cited")
    also_cited = factories.source(moderator, title="A cited")
    factories.source(moderator, title="Not cited")
    factories.section(moderator, article, body=f"One [@{cited.key}] and [@{also_cited.key}, p. 3] [@{cited.key}].")
    assert list(Source.objects.cited_in_article(article)) == [also_cited, cited]


# --- __str__ and get_absolute_url ------------------------------------------------------------


def test_str_and_urls_of_content_models(moderator):
    article = factories.article(moderator, title="Operation Serval", slug="operation-serval")
    section = factories.section(moderator, article, title="The intervention", anchor="intervention")
    topic = factories.topic(moderator, name="France", slug="france")
    source = factories.source(moderator, key="unsc-res-2100", title="Resolution 2100")
    figure = factories.figure(moderator, png_upload(), caption="Gao airport, 2013")

    assert str(article) == "Operation Serval"
    assert article.get_absolute_url() == "/articles/operation-serval/"
    assert str(section) == "The intervention"
    assert section.get_absolute_url() == "/articles/operation-serval/#intervention"
    assert str(topic) == "France"
    assert topic.get_absolute_url() == "/topics/france/"
    assert str(source) == "Resolution 2100 [unsc-res-2100]"
    assert source.get_absolute_url() == "/sources/unsc-res-2100/"
    assert str(figure) == "Gao airport, 2013"
    assert figure.get_absolute_url().startswith("/media/figures/")
    assert figure.get_absolute_url().endswith(".png")


def test_figure_without_caption_is_named_by_its_alt_text():
    assert str(Figure(alt_text="Soldiers at Gao airport")) == "Soldiers at Gao airport"
    assert Figure().get_absolute_url() == ""


def test_str_of_revision_event_and_citation(moderator):
    article = factories.article(moderator, title="Operation Serval")
    revision = Revision.objects.for_object(article).get()
    assert str(revision) == f"Create article “Operation Serval” #{revision.pk}"
    assert revision.get_admin_url() == f"/admin/articles/revision/{revision.pk}/change/"
    event = revision.events.get(kind=ModerationEvent.Kind.PUBLISHED_DIRECTLY)
    assert str(event) == f"Published directly: {revision}"

    source = factories.source(moderator, key="unsc-res-2100")
    section = factories.section(moderator, article, title="Background", body="Text [@unsc-res-2100].")
    citation = Citation.objects.get(section=section)
    assert str(citation) == "Background → unsc-res-2100"
    assert citation.source == source


def test_live_object_points_at_its_published_revision(moderator):
    article = factories.article(moderator)
    assert article.state == PublicationState.LIVE
    assert article.live_revision == Revision.objects.for_object(article).published().get()

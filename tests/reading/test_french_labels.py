"""French pages say their own labels: the notes' source links, the timeline's "Source:", the compare
page's hidden "[added:"/"[removed:" words, and the admin's names of revisions and their statuses."""

import re

import pytest
from django.conf import settings
from django.utils import translation

from articles.content import markup
from articles.models import ArticleVersion
from articles.publishing import fragments
from articles.revisions import moderation
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def cited(moderator):
    source = factories.source(moderator, key="unsc-res-2100", title="Resolution 2100")
    topic = factories.topic(moderator, name="MINUSMA", slug="minusma", body="Set up in 2013 [@unsc-res-2100].")
    factories.timeline_event(moderator, topics=[topic], title="MINUSMA created", text="Created [@unsc-res-2100].")
    article = factories.article(moderator, title="Deployments", slug="deployments")
    # Published by a moderator whose admin is in French: what is stored does not depend on it.
    with translation.override("fr"):
        section = factories.section(
            moderator, article, title="Mandate", anchor="mandate", body="In 2013 [@unsc-res-2100, para. 4]."
        )
    return {"source": source, "topic": topic, "article": article, "section": section}


def get(client, path):
    response = client.get(path)
    assert response.status_code == 200, path
    return response.content.decode()


def notes_of(html):
    return re.search(r'<ol class="notes">.*?</ol>', html, re.S).group()


def test_french_note_links_say_french_and_lead_to_french_source_pages(client, cited):
    number = ArticleVersion.objects.for_article(cited["article"]).first().number
    for path in ("/fr/articles/deployments/", f"/fr/articles/deployments/revisions/{number}/", "/fr/topics/minusma/"):
        notes = notes_of(get(client, path))
        assert 'href="/fr/sources/unsc-res-2100/" class="note-source-link"' in notes, path
        assert re.search(r'class="note-source-link"[^>]* lang="fr">Détails de la source</a>', notes), path
        assert "Source details" not in notes and 'href="/sources/' not in notes, path
        assert 'aria-label="Retour à l’appel de note 1" lang="fr"' in notes, path
        assert "Back to citation" not in notes, path
    # English pages are as they were.
    for path in ("/articles/deployments/", f"/articles/deployments/revisions/{number}/", "/topics/minusma/"):
        notes = notes_of(get(client, path))
        assert re.search(r'<a href="/sources/unsc-res-2100/" class="note-source-link"[^>]*>Source details</a>', notes)
        assert "/fr/" not in notes and ' lang="' not in notes


def test_a_version_frozen_by_a_french_speaking_moderator_links_to_english_pages(cited):
    version = ArticleVersion.objects.for_article(cited["article"]).first()
    assert 'href="/sources/unsc-res-2100/"' in version.notes_html and "/fr/" not in version.notes_html


def test_french_pages_translate_stored_fragments_without_markdown(client, cited, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("Markdown rendered on the read path")

    monkeypatch.setattr(markup, "render_markdown", refuse)
    monkeypatch.setattr(fragments, "render_standalone", refuse)
    assert "Détails de la source" in get(client, "/fr/articles/deployments/")
    assert "Source\u00a0:" in get(client, "/fr/timeline/")


def test_the_timeline_labels_its_sources_in_the_page_language(client, cited):
    french = get(client, "/fr/timeline/")
    sources = re.search(r'<ol class="timeline-sources".*?</ol>', french, re.S).group()
    assert '<span class="timeline-source-label" lang="fr">Source\u00a0:</span>' in sources
    assert 'href="/fr/sources/unsc-res-2100/"' in sources
    english = get(client, "/timeline/")
    assert '<span class="timeline-source-label">Source:</span>' in english
    # The label is markup, not words the stylesheet adds in English.
    css = (settings.BASE_DIR / "static" / "css" / "site.css").read_text()
    assert not re.search(r'content:\s*"[^"]*Source', css)


def test_several_sources_of_an_event_are_numbered_in_the_page_language(client, moderator, cited):
    factories.source(moderator, key="report-2014", title="Report 2014")
    factories.timeline_event(moderator, title="Two sources", text="Both [@unsc-res-2100] and [@report-2014].")
    french = get(client, "/fr/timeline/")
    assert re.search(
        r'<span class="timeline-source-label" lang="fr">Source 1\u00a0:</span>.*?'
        r'<span class="timeline-source-label" lang="fr">2\u00a0:</span>',
        french,
        re.S,
    )


def test_the_compare_page_names_changes_for_screen_readers_in_the_page_language(client, moderator, cited):
    article, section = cited["article"], cited["section"]
    before = ArticleVersion.objects.for_article(article).first().number
    moderation.publish_directly(
        obj=section, moderator=moderator, summary="Edit", data={**section.snapshot(), "body": "In April 2013."}
    )
    after = before + 1
    french = get(client, f"/fr/articles/deployments/history/compare/?a={before}&b={after}")
    assert re.search(r'<span class="visually-hidden" lang="fr"> \[ajouté\u00a0: </span><ins>', french)
    assert re.search(r'<span class="visually-hidden" lang="fr"> \[supprimé\u00a0: </span><del>', french)
    assert "[added:" not in french and "[removed:" not in french
    english = get(client, f"/articles/deployments/history/compare/?a={before}&b={after}")
    assert '<span class="visually-hidden"> [added: </span><ins>' in english
    assert '<span class="visually-hidden"> [removed: </span><del>' in english
    css = (settings.BASE_DIR / "static" / "css" / "site.css").read_text()
    assert "[added" not in css and "[removed" not in css


def test_the_french_admin_names_revisions_and_their_statuses_grammatically(client, moderator, editor, cited):
    section, topic = cited["section"], cited["topic"]
    rejected = moderation.propose(obj=topic, author=editor, summary="Rename", data={**topic.snapshot(), "name": "X"})
    moderation.reject(revision=rejected, moderator=moderator, reason="No.")
    moderation.propose(obj=section, author=editor, summary="Reword", data={**section.snapshot(), "body": "Y."})
    client.force_login(moderator)
    queue = client.get("/admin/articles/revision/?status=all", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert '<html lang="fr"' in queue
    assert "Modification de la section" in queue and "Création de l’article" in queue
    assert "Modification du thème" in queue
    assert "Modification section" not in queue and "Création article" not in queue
    statuses = re.findall(r'<td class="field-status_display">([^<]*)</td>', queue)
    assert "Publiée" in statuses and "Refusée" in statuses and "Publié" not in statuses
    review = client.get(f"/admin/articles/revision/{rejected.pk}/change/", HTTP_ACCEPT_LANGUAGE="fr")
    html = review.content.decode()
    assert "Modification du thème" in html and "Refusée" in html
    english = client.get("/admin/articles/revision/?status=all", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Change section" in english and "Published" in english

"""The interface in French: /fr/ pages, the switcher, the admin, dates, and caching per language.

Content stays in the language it was written in (English), marked ``lang="en"``; everything else
on a French page is the interface, and none of it may be an English string from our catalogue.
"""

from __future__ import annotations

import ast
import gettext
import io
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.utils import translation
from django.utils.html import escape

from articles.content import languages
from articles.models import Section
from articles.publishing import article_page, dependencies
from articles.revisions import moderation
from tests import factories
from tests.conftest import bake_into
from tests.page_types import demo_site

pytestmark = pytest.mark.django_db

TEMPLATES_CATALOGUE = Path(settings.BASE_DIR) / "locale" / "fr" / "LC_MESSAGES" / "django.po"
CATALOGUES = [
    TEMPLATES_CATALOGUE,
    TEMPLATES_CATALOGUE.with_name("djangojs.po"),
    Path(settings.BASE_DIR) / "articles" / "locale" / "fr" / "LC_MESSAGES" / "django.po",
]

# Interface strings every reader sees, and their French (the brief's list, plus a few).
INTERFACE = {
    "Skip to content": "Aller au contenu",
    "Topics": "Thèmes",
    "Timeline": "Chronologie",
    "Search articles, topics and sources": "Rechercher dans les articles, thèmes et sources",
    "is a moderated, cited history of Mali’s military deployments": "est une histoire modérée et sourcée",
}
ARTICLE_INTERFACE = {
    "Contents": "Sommaire",
    "Bibliography": "Bibliographie",
    "Suggest a correction": "Proposer une correction",
    "Last updated": "Dernière mise à jour",
    "Cite this page": "Citer cette page",
    "History": "Historique",
}


@pytest.fixture
def site():
    return demo_site()


class InterfaceText(HTMLParser):
    """What a reader gets from the interface: text and labels in elements not marked ``lang="en"`` (content)."""

    LABELS = ("aria-label", "title", "alt", "placeholder")
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []  # (tag, its lang attribute or None)
        self.parts = []
        self.skip = 0  # inside <script> or <style>

    def language(self, lang=None):
        """The language of an element with ``lang``, inside the elements open now."""
        for _tag, outer in [*self.stack, (None, lang)][::-1]:
            if outer:
                return outer
        return None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "style"):
            self.skip += 1
        if self.language(attrs.get("lang")) != "en":
            self.parts.extend(attrs[name] for name in self.LABELS if attrs.get(name))
        if tag not in self.VOID:
            self.stack.append((tag, attrs.get("lang")))

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.skip -= 1
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        if not self.skip and self.language() != "en":
            self.parts.append(data)

    @classmethod
    def of(cls, html: str, *, content=()) -> str:
        """``content``: strings that are content where nothing can mark them (the page's <title>)."""
        parser = cls()
        parser.feed(html)
        text = " ".join(" ".join(parser.parts).split())
        for string in ("Mali History", *content):  # the site's name is the same in every language
            text = text.replace(string, "")
        return text


def catalogue_strings() -> list[str]:
    """Our templates' English strings that French changes: plain text (no placeholders or markup)."""
    text = TEMPLATES_CATALOGUE.read_text()
    pairs = re.findall(r'^msgid "(.+)"\nmsgstr "(.+)"$', text, re.M)
    return [
        english
        for english, french in pairs
        if english != french and len(english) > 4 and not re.search(r"[%<{]", english)
    ]


def get(client, path, **headers):
    response = client.get(path, **headers)
    assert response.status_code in (200, 404), (path, response.status_code)
    return response.content.decode()


def test_every_public_page_type_in_french_has_no_english_interface_string(client, site):
    english_strings = catalogue_strings()
    assert len(english_strings) > 50
    for name, path in site.public_pages("/fr").items():
        html = get(client, path)
        assert '<html lang="fr">' in html, name
        interface = InterfaceText.of(html, content=site.content_titles())
        leftovers = [s for s in english_strings if re.search(rf"(?<!\w){re.escape(s)}(?!\w)", interface)]
        assert not leftovers, f"{name} ({path}) still says, in English: {leftovers}"
        for english, french in INTERFACE.items():
            assert english not in interface, (name, english)
            assert french in interface, (name, french)


def test_the_article_page_in_french_translates_its_headings_and_keeps_the_content_in_english(client, site):
    html = get(client, site.public_pages("/fr")["article"])
    interface = InterfaceText.of(html, content=site.content_titles())
    for english, french in ARTICLE_INTERFACE.items():
        assert english not in interface, english
        assert french in interface, french
    assert re.search(r'<article class="article" aria-labelledby="article-title" lang="en">', html)
    # The headings inside the content are marked as interface again.
    assert '<h2 id="bibliography-title" lang="fr">Bibliographie</h2>' in html
    assert f'<h1 id="article-title">{escape(site.article.title)}</h1>' in html  # content, in English
    english = get(client, site.public_pages()["article"])
    assert '<html lang="en">' in english and ' lang="fr"' not in english.replace('hreflang="fr" lang="fr"', "").replace(
        'lang="fr" hreflang="fr"', ""
    )


def test_the_switcher_links_each_page_to_itself_in_the_other_language(client, site):
    english_pages, french_pages = site.public_pages(), site.public_pages("/fr")
    for name, english_path in english_pages.items():
        french_path = french_pages[name]
        if name == "404":  # nothing there in either language: the switcher offers the home pages
            english_path, french_path = "/", "/fr/"
        english_href = english_path.replace("&", "&amp;")
        french_href = french_path.replace("&", "&amp;")
        assert f'<a href="{french_href}" lang="fr" hreflang="fr">Français</a>' in get(client, english_pages[name]), name
        assert f'<a href="{english_href}" lang="en" hreflang="en">English</a>' in get(client, french_pages[name]), name


def test_links_on_a_french_page_keep_the_language(client, site):
    html = get(client, site.public_pages("/fr")["article"])
    assert f'href="/fr/topics/{site.topic.slug}/"' in html
    assert 'href="/fr/timeline/"' in html and 'action="/fr/search/"' in html
    results = get(client, "/fr/search/?q=MINUSMA")
    assert f'href="/fr/articles/{site.article.slug}/' in results
    assert f'href="/articles/{site.article.slug}/' not in results


def test_dates_are_in_french_on_french_pages(client, site):
    assert "25 avril 2013" in get(client, "/fr/timeline/")
    assert "April 25, 2013" in get(client, "/timeline/")
    month = {1: "janvier", 11: "novembre", 12: "décembre"}.get(site.article.published_at.month)
    if month:
        assert re.search(
            rf"Dernière mise à jour le <time[^>]*>\d+ {month} \d{{4}}</time>",
            get(client, site.public_pages("/fr")["article"]),
        )


def test_english_pages_keep_their_addresses_and_answer_without_vary(client, site):
    for name, path in site.public_pages().items():
        response = client.get(path)
        assert response.status_code == (404 if name == "404" else 200), name
        assert response["Content-Language"] == "en"
        if name not in ("404", "suggest a correction"):
            # The address decides the language, so the page cache may store it (no Vary).
            assert not response.has_header("Vary"), name
    french = client.get("/fr/", HTTP_ACCEPT_LANGUAGE="en")
    assert french["Content-Language"] == "fr" and not french.has_header("Vary")
    # A French browser asking for an English address gets English: no redirect, no guessing.
    assert client.get("/", HTTP_ACCEPT_LANGUAGE="fr")["Content-Language"] == "en"


def test_the_admin_review_page_follows_the_browser_language(client, site):
    client.force_login(site.moderator)
    path = site.admin_pages()["revision review"]
    french = get(client, path, HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9")
    assert '<html lang="fr"' in french
    for label in (
        "File de relecture",
        "Résumé de la modification",
        "Approuver et publier",
        "Motif du refus (l’auteur le verra)",
        "Historique de cet objet",
    ):
        assert label in french, label
    for label in ("Review queue", "Edit summary", "Approve and publish", "History of this object"):
        assert label not in french, label
    english = get(client, path, HTTP_ACCEPT_LANGUAGE="en")
    assert '<html lang="en"' in english and "Approve and publish" in english
    # The other customised admin pages answer in French too.
    for name, admin_path in site.admin_pages().items():
        assert '<html lang="fr"' in get(client, admin_path, HTTP_ACCEPT_LANGUAGE="fr"), name


def test_the_markdown_editor_strings_come_in_the_admin_language(client, site):
    client.force_login(site.moderator)
    form = get(client, site.admin_pages()["section change form"], HTTP_ACCEPT_LANGUAGE="fr")
    assert '<script src="/admin/jsi18n/articles/"' in form
    catalogue = client.get("/admin/jsi18n/articles/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Envoyer une image" in catalogue


def test_publishing_invalidates_the_page_in_every_language(site, settings):
    settings.PUBLIC_PAGE_CACHE = True
    path = site.article.get_absolute_url()
    with translation.override("fr"):  # a moderator using the French admin
        found = dependencies.appearances(site.section)
        affected = languages.in_every_language(found.paths | {path})
    assert path in affected and "/fr" + path in affected
    assert "/" in affected and "/fr/" in affected
    assert "/fr/feeds/articles.rss" in affected and "/feeds/articles.rss" in affected


def test_the_cache_keeps_each_language_apart(site, settings, django_capture_on_commit_callbacks):
    settings.PUBLIC_PAGE_CACHE = True
    client = Client()
    path = site.article.get_absolute_url()
    assert '<html lang="en">' in client.get(path).content.decode()
    assert '<html lang="fr">' in client.get("/fr" + path).content.decode()
    # Served from the cache now: each language from its own entry.
    assert '<html lang="en">' in client.get(path).content.decode()
    assert '<html lang="fr">' in client.get("/fr" + path).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        moderation.publish_directly(
            obj=site.section,
            moderator=site.moderator,
            summary="Reword",
            data={**site.section.snapshot(), "body": "A new French-proof sentence."},
        )
    assert "A new French-proof sentence." in client.get(path).content.decode()
    assert "A new French-proof sentence." in client.get("/fr" + path).content.decode()


def test_content_rendered_while_the_interface_is_french_stays_language_neutral(moderator):
    with translation.override("fr"):
        source = factories.source(moderator, key="unsc-res-2100", title="Resolution 2100")
    article = factories.article(moderator, slug="neutral")
    with translation.override("fr"):
        section = factories.section(moderator, article, body="Created in 2013 [@unsc-res-2100].")
    article.refresh_from_db()
    section = Section.objects.get(pk=section.pk)
    page = article_page.compose(article, Section.objects.for_reading().filter(article=article))
    assert f'href="{source.get_absolute_url()}"' in page.notes_html
    assert "/fr/" not in page.notes_html + section.body_html + source.note_html


# --- The catalogues ------------------------------------------------------------------------


def read_po(path: Path) -> list[dict]:
    """Entries of a .po file: msgctxt, msgid, msgid_plural, msgstr (list) and flags."""
    entries, entry, field = [], None, None
    for line in path.read_text().splitlines() + [""]:
        if not line.strip():
            if entry:
                entries.append(entry)
            entry, field = None, None
            continue
        entry = entry or {"flags": "", "msgstr": {}}
        if line.startswith("#,"):
            entry["flags"] += line
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            target = entry["msgstr"] if isinstance(field, int) else entry
            target[field] += ast.literal_eval(line)
        else:
            keyword, value = line.split(" ", 1)
            plural = re.fullmatch(r"msgstr\[(\d)\]", keyword)
            field = int(plural.group(1)) if plural else (0 if keyword == "msgstr" else keyword)
            target = entry["msgstr"] if isinstance(field, int) else entry
            target[field] = ast.literal_eval(value)
    return [e for e in entries if e.get("msgid")]  # not the header


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda path: f"{path.parent.parent.parent.parent.name}/{path.name}")
def test_every_string_is_translated_and_compiled(po):
    entries = read_po(po)
    assert entries
    untranslated = [e["msgid"] for e in entries if "fuzzy" in e["flags"] or not all(e["msgstr"].values())]
    assert not untranslated, f"{po}: untranslated or fuzzy: {untranslated}"
    with open(po.with_suffix(".mo"), "rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for entry in entries:
        msgid = entry["msgid"] if "msgctxt" not in entry else f"{entry['msgctxt']}\x04{entry['msgid']}"
        if "msgid_plural" in entry:
            assert compiled.ngettext(msgid, entry["msgid_plural"], 5) == entry["msgstr"][2], msgid
        else:
            assert compiled._catalog.get(msgid) == entry["msgstr"][0], f"{po.name} is not compiled: {msgid!r}"


@pytest.mark.django_db(transaction=True)
def test_publishing_for_readers_of_both_languages_leaves_the_moderator_in_theirs(
    client, settings, tmp_path, run_worker
):
    """Baked pages are rendered in French and English after an approval; the English moderator's own
    pages stay English, however the request and the worker interleave."""
    bake_into(settings, tmp_path / "baked")
    moderator = factories.make_user("moderator", group="Moderator")
    editor = factories.make_user("editor", group="Editor")
    article = factories.article(moderator, title="Deployments", slug="deployments")
    section = factories.section(moderator, article, body="Old text.")
    call_command("bake_site", stdout=io.StringIO())
    revision = moderation.propose(
        obj=section, author=editor, summary="Reword", data={**section.snapshot(), "body": "New text."}
    )
    client.force_login(moderator)
    response = client.post(
        f"/admin/articles/revision/{revision.pk}/approve/", {}, HTTP_ACCEPT_LANGUAGE="en", follow=True
    )
    html = response.content.decode()
    assert "Approved and published" in html and "Publié" not in html
    run_worker()  # bakes /fr/ pages, in this process
    assert "New text." in (tmp_path / "baked" / "fr" / "articles" / "deployments" / "index.html").read_text()
    again = client.get("/admin/articles/revision/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'lang="en"' in again and "Révisions" not in again

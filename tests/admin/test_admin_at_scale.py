"""The admin stays usable as the site grows: short filters, long articles listed rather than inlined,
and changelists, the review queue and history pages at a constant number of queries."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from articles.admin import content, filters
from articles.models import Article, PublicationState, Section
from articles.revisions import moderation
from tests import adminforms, factories

pytestmark = pytest.mark.django_db


def sidebar(html, title):
    """The links of the changelist filter titled ``title``."""
    found = re.search(rf"<summary>\s*By {title}\s*</summary>\s*<ul>(.*?)</ul>", html, re.S)
    assert found, title
    return re.findall(r"<a href=\"[^\"]*\">([^<]*)</a>", found.group(1))


def articles(moderator, count, prefix="Deployment"):
    made = []
    for n in range(count):
        article = factories.article(moderator, title=f"{prefix} {n:02d}", slug=f"{prefix.lower()}-{n}")
        factories.section(moderator, article, title=f"Part of {prefix} {n:02d}", anchor="part")
        made.append(article)
    return made


# --- Filters that would list every article ---------------------------------------------------------------


def test_the_article_filter_lists_recent_articles_and_says_how_to_find_the_others(client, moderator, monkeypatch):
    monkeypatch.setattr(filters.RecentArticleFilter, "limit", 3)
    made = articles(moderator, 5)
    client.force_login(moderator)
    html = client.get("/admin/articles/section/").content.decode()
    assert sidebar(html, "article") == ["All", "Deployment 04", "Deployment 03", "Deployment 02"]
    assert "The 3 articles changed most recently. To find another, search for its title" in html
    # An older one is reached through the search box, which searches article titles...
    found = client.get("/admin/articles/section/", {"q": "Deployment 00"}).content.decode()
    assert "Part of Deployment 00" in found and "Part of Deployment 01" not in found
    # ...or by a link with its number, which the filter then shows as chosen.
    chosen = client.get("/admin/articles/section/", {"article__id__exact": made[0].pk}).content.decode()
    assert sidebar(chosen, "article")[-1] == "Deployment 00"
    assert '<li class="selected">\n    <a href="?article__id__exact=%d">Deployment 00' % made[0].pk in chosen
    assert "Part of Deployment 00" in chosen and "Part of Deployment 01" not in chosen
    # Not a number: the admin's "bad filter" answer, nothing listed.
    assert client.get("/admin/articles/section/", {"article__id__exact": "x"})["Location"].endswith("?e=1")


def test_the_review_queue_filters_by_article_the_same_way(client, editor, moderator, monkeypatch):
    monkeypatch.setattr(filters.RecentArticleFilter, "limit", 2)
    made = articles(moderator, 4)
    section = made[0].sections.get()
    moderation.propose(obj=section, author=editor, summary="Fix the oldest", data={**section.snapshot(), "body": "B."})
    client.force_login(moderator)
    html = client.get("/admin/articles/revision/").content.decode()
    assert "Deployment 00" not in sidebar(html, "article")
    found = client.get("/admin/articles/revision/", {"q": "Deployment 00"}).content.decode()
    assert "Fix the oldest" in found
    chosen = client.get("/admin/articles/revision/", {"article__id__exact": made[0].pk}).content.decode()
    assert "Fix the oldest" in chosen and sidebar(chosen, "article")[-1] == "Deployment 00"


def test_the_review_queue_has_one_author_filter_with_my_proposals_first(client, editor, moderator):
    article = factories.article(moderator, title="Serval")
    section = factories.section(moderator, article, title="Landing")
    moderation.propose(obj=section, author=editor, summary="Editor idea", data={**section.snapshot(), "body": "E."})
    moderation.propose(obj=section, author=moderator, summary="Own idea", data={**section.snapshot(), "body": "M."})
    client.force_login(moderator)
    html = client.get("/admin/articles/revision/").content.decode()
    assert len(re.findall(r"<summary>\s*By author\s*</summary>", html)) == 1
    assert sidebar(html, "author")[:2] == ["All", "My proposals"]
    assert "editor" in sidebar(html, "author")
    mine = client.get("/admin/articles/revision/", {"mine": "1"}).content.decode()
    assert "Own idea" in mine and "Editor idea" not in mine
    assert '<li class="selected">\n    <a href="?mine=1">My proposals' in mine
    theirs = client.get("/admin/articles/revision/", {"author__id__exact": editor.pk}).content.decode()
    assert "Editor idea" in theirs and "Own idea" not in theirs


# --- A long article's change form ------------------------------------------------------------------------


def test_a_long_article_lists_its_sections_instead_of_a_form_for_each(client, moderator):
    topic = factories.topic(moderator, name="Peacekeeping")
    source = factories.source(moderator, key="unsc-res-2100")
    long = factories.article_with_sections(moderator, content.INLINE_SECTIONS_LIMIT + 1, topic, source)
    client.force_login(moderator)
    response = client.get(f"/admin/articles/article/{long.pk}/change/")
    html = response.content.decode()
    assert "sections-TOTAL_FORMS" not in html and not response.context["inline_admin_formsets"]
    assert "This article is long: edit each section on its own page." in html
    rows = re.findall(r'<td class="position">(\d+)</td><td><a href="([^"]*)">([^<]*)</a>', html)
    sections = list(Section.objects.filter(article=long).order_by("position"))
    assert len(rows) == len(sections) == content.INLINE_SECTIONS_LIMIT + 1
    assert rows[0] == ("0", f"/admin/articles/section/{sections[0].pk}/change/", "Section 0")
    assert [int(position) for position, _url, _title in rows] == sorted(s.position for s in sections)
    assert f'href="/admin/articles/section/?article__id__exact={long.pk}"' in html
    # The article's own fields still save, as a proposal like any other change, sections untouched.
    data = adminforms.admin_form_data(response, title="A long article", edit_summary="Retitle", publish_now="on")
    assert client.post(f"/admin/articles/article/{long.pk}/change/", data).status_code == 302
    long.refresh_from_db()
    assert long.title == "A long article"
    assert Section.objects.filter(article=long, state=PublicationState.LIVE).count() == len(sections)


def test_a_short_article_keeps_its_inline_section_forms(client, moderator):
    article = factories.article(moderator, title="Short")
    for n in range(3):
        factories.section(moderator, article, title=f"Part {n}")
    client.force_login(moderator)
    html = client.get(f"/admin/articles/article/{article.pk}/change/").content.decode()
    assert 'name="sections-TOTAL_FORMS" value="3"' in html
    assert "This article is long" not in html


def test_the_long_article_form_costs_the_same_queries_for_31_and_90_sections(client, moderator):
    topic = factories.topic(moderator, name="Peacekeeping")
    source = factories.source(moderator, key="unsc-res-2100")
    short = factories.article_with_sections(moderator, 31, topic, source)
    long = factories.article_with_sections(moderator, 90, topic, source)
    client.force_login(moderator)
    counts, sizes = [], []
    for article in (short, long):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/admin/articles/article/{article.pk}/change/")
        counts.append(len(queries))
        sizes.append(len(response.content))
    assert counts[0] == counts[1]
    assert sizes[1] - sizes[0] < 59 * 400  # A line per section, not a form.


# --- Query counts at small and larger sizes ---------------------------------------------------------------


PAGES = [
    "/admin/articles/article/",
    "/admin/articles/section/",
    "/admin/articles/revision/",
    "/admin/articles/revision/?status=all",
    "/admin/articles/revision/?mine=1",
]


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200, url
    return len(queries)


def test_changelists_and_the_review_queue_cost_the_same_for_few_and_many_articles(client, editor, moderator):
    client.force_login(moderator)

    def grow(count, prefix):
        for article in articles(moderator, count, prefix):
            section = article.sections.get()
            moderation.propose(obj=section, author=editor, summary=f"Edit {article.title}", data={**section.snapshot()})

    grow(2, "Few")
    few = {url: count_queries(client, url) for url in PAGES}
    grow(12, "Many")
    assert Article.objects.count() == 14
    assert {url: count_queries(client, url) for url in PAGES} == few


def test_history_pages_cost_the_same_for_few_and_many_revisions(client, moderator):
    article = factories.article(moderator, title="Serval")
    section = factories.section(moderator, article, title="Landing")
    client.force_login(moderator)
    urls = [f"/admin/articles/section/{section.pk}/history/", f"/admin/articles/article/{article.pk}/history/"]
    few = [count_queries(client, url) for url in urls]
    for n in range(10):
        moderation.publish_directly(
            obj=section, moderator=moderator, summary=f"Edit {n}", data={**section.snapshot(), "body": f"Text {n}."}
        )
        section.refresh_from_db()
    assert [count_queries(client, url) for url in urls] == few


def test_the_article_list_counts_each_article_s_published_sections(client, moderator):
    article = factories.article(moderator, title="Serval")
    for n in range(3):
        factories.section(moderator, article, title=f"Part {n}")
    Section.objects.create(article=article, title="A draft", anchor="a-draft")  # Not published: not counted.
    factories.article(moderator, title="Empty")
    client.force_login(moderator)
    html = client.get("/admin/articles/article/", {"o": "-3"}).content.decode()
    counts = dict(
        re.findall(
            r'<a href="/admin/articles/article/\d+/change/[^"]*">([^<]*)</a></th>'
            r'<td class="field-state">[^<]*</td><td class="field-section_count">(\d+)</td>',
            html,
        )
    )
    assert counts == {"Serval": "3", "Empty": "0"}

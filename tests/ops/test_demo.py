"""The demo loader: what `manage.py load_demo` publishes, and that running it again changes nothing."""

import html
import io
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from PIL import Image

from articles.models import (
    Article,
    ArticleVersion,
    Citation,
    Figure,
    PublicationState,
    Revision,
    RevisionStatus,
    Section,
    Source,
    Topic,
)
from articles.ops import demo, demo_figure
from articles.revisions import moderation
from tests import factories

SEED = Path(__file__).resolve().parents[3] / "shared" / "seeds" / "mali_military_deployments.txt"
PASSWORD_LINE = re.compile(r"^\s*(editor|moderator|admin) \((\w+)\) password: (\S+)$", re.MULTILINE)


def load_demo() -> str:
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


@pytest.fixture
def output(db):
    return load_demo()


@pytest.fixture
def article(output):
    return Article.objects.get(slug=demo.ARTICLE["slug"])


# --- What is loaded ------------------------------------------------------------------------


def test_loads_sections_topics_sources_and_figure(article):
    sections = list(article.sections.all())
    assert len(sections) >= 6
    assert any(s.parent_id for s in sections), "at least one subsection"
    assert all(s.parent is None or s.parent.parent is None for s in sections)
    assert all(s.topics.exists() for s in sections), "every section is tagged"
    assert Topic.objects.count() >= 5
    assert Source.objects.count() >= 8
    assert Figure.objects.count() == 1
    assert article.lead_figure == Figure.objects.get()


def test_everything_is_published_by_the_moderator_through_revisions(article):
    moderator = User.objects.get(username="moderator")
    for model in (Article, Section, Topic, Source, Figure):
        for obj in model.objects.all():
            assert obj.state == PublicationState.LIVE, obj
            assert obj.live_revision is not None, obj
            assert obj.live_revision.status == RevisionStatus.PUBLISHED
            assert obj.live_revision.decided_by == moderator
    assert not Revision.objects.pending().exists()


def test_every_source_is_cited_and_every_section_cites(article):
    cited = set(Citation.objects.values_list("source__key", flat=True))
    assert cited == set(Source.objects.values_list("key", flat=True))
    for key in cited:
        assert Source.objects.get(key=key).cited_in_sections.filter(article=article).exists()
    assert Citation.objects.exclude(locator="").exists(), "at least one citation has a locator"
    assert all(section.citations.exists() for section in article.sections.all())


def test_sources_carry_their_details():
    by_key = {s["key"]: s for s in demo.SOURCES}
    assert by_key["unsc-res-2100"]["identifier"] == "S/RES/2100 (2013)"
    assert by_key["sc-11453"]["identifier"] == "SC/11453"
    assert by_key["unsc-res-2100"]["kind"] != by_key["sc-11453"]["kind"], "resolution and press release differ"
    assert "url" not in by_key["mali-independence"]
    for source in demo.SOURCES:
        if source.get("url"):
            assert source["accessed_on"] == demo.ACCESSED_ON


def test_the_figure_is_a_drawn_timeline(article):
    figure = article.lead_figure
    assert figure.state == PublicationState.LIVE
    assert (figure.width, figure.height) == (1600, 640)
    assert figure.image.name.endswith(".png")
    with figure.image.open("rb") as stored, Image.open(stored) as image:
        assert image.format == "PNG"
        assert image.size == (1600, 640)
        assert not image.info.get("exif")
    assert figure.alt_text and figure.credit == "Mali History" and figure.licence == "CC BY 4.0"


# --- The public page -----------------------------------------------------------------------


def test_article_page_shows_notes_bibliography_and_figure(client, article):
    response = client.get(article.get_absolute_url())
    assert response.status_code == 200
    page = response.content.decode()
    assert '<ol class="notes">' in page
    notes = re.findall(r'<li id="note-(\d+)">', page)
    assert notes and [int(n) for n in notes] == list(range(1, len(notes) + 1))
    assert 'class="citation-ref"' in page
    assert 'id="bibliography"' in page
    for source in Source.objects.all():
        assert source.get_absolute_url() in page
    figure = article.lead_figure
    assert f'<img src="{figure.image.url}"' in page
    assert f'alt="{html.escape(figure.alt_text)}"' in page
    assert "Unknown source" not in page
    assert "<table>" in page and 'class="align-right"' in page
    assert "<ul>" in page


def test_topic_and_source_pages_list_the_demo_sections(client, article):
    for topic in Topic.objects.all():
        response = client.get(topic.get_absolute_url())
        assert response.status_code == 200
        assert "Unknown source" not in response.content.decode()
    for source in Source.objects.all():
        response = client.get(source.get_absolute_url())
        assert response.status_code == 200
        assert article.get_absolute_url() in response.content.decode()


# --- Accounts ------------------------------------------------------------------------------


def test_accounts_have_groups_and_the_printed_passwords_work(client, output):
    found = {username: (group, password) for username, group, password in PASSWORD_LINE.findall(output)}
    assert set(found) == {"editor", "moderator", "admin"}
    for username, (group, password) in found.items():
        user = User.objects.get(username=username)
        assert user.is_staff
        if username == "admin":
            assert group == "administrator" and user.is_superuser and not user.groups.exists()
        else:
            assert not user.is_superuser
            assert list(user.groups.values_list("name", flat=True)) == [group]
            assert group == username.capitalize()
        assert client.login(username=username, password=password)
        client.logout()
    assert "http://127.0.0.1:8000/admin/" in output
    assert "http://127.0.0.1:8000/articles/malis-military-deployments/" in output


def test_existing_accounts_are_used_and_left_alone(db, editor, moderator):
    output = load_demo()
    assert {username for username, _, _ in PASSWORD_LINE.findall(output)} == {"admin"}
    assert "editor: existing account kept unchanged" in output
    for user in (editor, moderator):
        user.refresh_from_db()
        assert user.check_password(factories.PASSWORD)
    assert Article.objects.get().live_revision.author == moderator


def test_an_existing_moderator_account_that_cannot_moderate_stops_the_load(db):
    factories.make_user("moderator", group="Editor")
    before = row_counts()
    with pytest.raises(CommandError, match="cannot publish"):
        load_demo()
    assert row_counts() == before


def test_clashing_source_key_stops_the_load_and_saves_nothing(db, moderator):
    factories.source(moderator, key="unsc-res-2100")
    before = row_counts()
    with pytest.raises(CommandError, match="unsc-res-2100"):
        load_demo()
    assert row_counts() == before


def test_a_failure_midway_saves_nothing_and_leaves_no_file(db, settings, monkeypatch):
    broken = demo.DemoSection(
        anchor="broken", title="Broken", summary="Add a broken section", body="Cites nothing real.[@no-such-source]"
    )
    monkeypatch.setattr(demo, "SECTIONS", [*demo.SECTIONS, broken])
    before = row_counts()
    with pytest.raises(CommandError, match="no-such-source"):
        load_demo()
    assert row_counts() == before
    media = Path(settings.MEDIA_ROOT)
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))


# --- Running twice -------------------------------------------------------------------------


def test_running_twice_changes_nothing(output):
    users = {u.username: u.password for u in User.objects.all()}
    before = row_counts()
    assert before["articles.Revision"] > 0 and before["auth.User"] == 3
    second = load_demo()
    assert "Demo already loaded; nothing changed." in second
    assert "password" not in second
    assert row_counts() == before
    assert {u.username: u.password for u in User.objects.all()} == users


# --- The text is the team's own --------------------------------------------------------------


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).replace("’", "'").replace("‘", "'")
    text = text.replace("“", '"').replace("”", '"').replace("–", "-").replace("—", "-")
    return " ".join(re.sub(r"[^\w\s']", " ", text.lower()).split())


def _demo_text() -> str:
    parts = [demo.ARTICLE["title"], demo.ARTICLE["dek"], demo_figure.FIGURE["alt_text"], demo_figure.FIGURE["caption"]]
    parts += [s.title + " " + s.body for s in demo.SECTIONS]
    parts += [t["summary"] + " " + t["body"] for t in demo.TOPICS]
    text = "\n".join(parts)
    return re.sub(r"\[@[^\]]*\]", " ", text)  # citations are not prose


def test_no_sentence_of_the_seed_article_is_reused():
    if not SEED.exists():
        pytest.skip(f"seed article not found at {SEED}")
    demo_text = _normalise(_demo_text())
    seed_sentences = re.split(r"(?<=[.!?])\s+|\n+", SEED.read_text(encoding="utf-8"))
    reused = [s for s in seed_sentences if len(_normalise(s)) > 40 and _normalise(s) in demo_text]
    assert not reused


def test_sections_cite_only_known_sources_and_keys_are_unique():
    keys = {s["key"] for s in demo.SOURCES}
    assert len(keys) == len(demo.SOURCES) >= 8
    cited = set(re.findall(r"@([\w\-.:/]+)", " ".join(s.body for s in demo.SECTIONS)))
    assert cited == keys
    anchors = [s.anchor for s in demo.SECTIONS]
    assert len(set(anchors)) == len(anchors)
    assert all(s.parent in anchors for s in demo.SECTIONS if s.parent)


# --- The demo as a first-time user meets it (make run) ----------------------------------------------


def test_accounts_have_addresses_and_a_proposal_reaches_the_moderators_by_e_mail(
    output, mailoutbox, django_capture_on_commit_callbacks, run_tasks
):
    assert dict(User.objects.values_list("username", "email")) == {
        "editor": "editor@example.org",
        "moderator": "moderator@example.org",
        "admin": "admin@example.org",
    }
    editor = User.objects.get(username="editor")
    section = Section.objects.get(anchor="background")
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        moderation.propose(
            obj=section, author=editor, summary="Typo", data={**section.snapshot(), "body": section.body + "\nMore."}
        )
    run_tasks()
    recipients = {address for message in mailoutbox for address in message.to}
    assert recipients == {"moderator@example.org", "admin@example.org"}


def test_the_public_history_tells_how_the_article_was_written(client, article):
    versions = list(ArticleVersion.objects.filter(article=article).order_by("number"))
    first = [spec for spec in demo.SECTIONS if spec.first_version]
    later = [spec for spec in demo.SECTIONS if not spec.first_version]
    assert first and later
    # Version 1 is the article with its first sections, not an empty page; then one version per section.
    assert [s["anchor"] for s in versions[0].sections] == [spec.anchor for spec in first]
    assert versions[0].summary == demo.ARTICLE_SUMMARY
    assert [v.summary for v in versions[1:]] == [spec.summary for spec in later]
    assert [s["anchor"] for s in versions[-1].sections] == [spec.anchor for spec in demo.SECTIONS]
    summaries = [v.summary for v in versions]
    assert len(set(summaries)) == len(summaries) and "Demo content" not in summaries

    page = html.unescape(client.get(f"/articles/{article.slug}/history/").content.decode())
    for summary in summaries:
        assert summary in page
    first_page = client.get(f"/articles/{article.slug}/revisions/1/").content.decode()
    assert html.escape(first[0].title) in first_page


def test_subsections_follow_their_parent_in_reading_order():
    anchors = [spec.anchor for spec in demo.SECTIONS]
    for spec in demo.SECTIONS:
        if spec.parent:
            assert anchors.index(spec.parent) < anchors.index(spec.anchor)


def test_import_article_works_right_after_the_demo(output, tmp_path):
    path = tmp_path / "wells.txt"
    path.write_text("Imaginary Wells\n\nAn introduction.\n\nFirst Part\n\nSome text.\n", encoding="utf-8")

    out = io.StringIO()
    call_command("import_article", str(path), publish=True, stdout=out, stderr=io.StringIO())

    assert "Published by admin" in out.getvalue()
    imported = Article.objects.get(title="Imaginary Wells")
    assert imported.state == PublicationState.LIVE and imported.live_revision.author.username == "admin"


def test_the_links_printed_use_the_port_served(db):
    out = io.StringIO()
    call_command("load_demo", host="127.0.0.1", port=8123, stdout=out)
    assert "Admin:   http://127.0.0.1:8123/admin/" in out.getvalue()
    assert "Article: http://127.0.0.1:8123/articles/malis-military-deployments/" in out.getvalue()

    again = io.StringIO()
    call_command("load_demo", host="0.0.0.0", port=8124, stdout=again)
    assert "Demo already loaded; nothing changed." in again.getvalue()
    assert "Admin:   http://127.0.0.1:8124/admin/" in again.getvalue()


def test_make_run_passes_its_port_to_the_demo_and_the_server():
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    project = Path(__file__).resolve().parents[2]
    plan = subprocess.run(
        ["make", "-n", "run", "PORT=8123"], cwd=project, capture_output=True, text=True, check=True
    ).stdout
    assert "manage.py load_demo --host 127.0.0.1 --port 8123" in plan
    assert "manage.py runserver 127.0.0.1:8123" in plan
    assert "DJANGO_SITE_URL:-http://127.0.0.1:8123" in plan


def test_reset_passwords_gives_the_demo_accounts_new_ones(client, output):
    old = {username: password for username, _, password in PASSWORD_LINE.findall(output)}
    factories.make_user("someone-else")
    before = row_counts()

    out = io.StringIO()
    call_command("load_demo", reset_passwords=True, stdout=out)

    new = {username: password for username, _, password in PASSWORD_LINE.findall(out.getvalue())}
    assert set(new) == {"editor", "moderator", "admin"}
    for username in new:
        assert new[username] != old[username]
        assert not client.login(username=username, password=old[username])
        assert client.login(username=username, password=new[username])
        client.logout()
    assert User.objects.get(username="someone-else").check_password(factories.PASSWORD)
    assert row_counts() == before

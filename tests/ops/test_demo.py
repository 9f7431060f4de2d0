"""The demo loader: what `manage.py load_demo` publishes, and that running it again changes nothing."""

import html
import io
import re
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
from tests import factories

SEED = Path(__file__).resolve().parents[3] / "shared" / "seeds" / "mali_military_deployments.txt"
PASSWORD_LINE = re.compile(r"^\s*(editor|moderator) \((\w+)\) password: (\S+)$", re.MULTILINE)


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
    assert set(found) == {"editor", "moderator"}
    for username, (group, password) in found.items():
        user = User.objects.get(username=username)
        assert user.is_staff and not user.is_superuser
        assert list(user.groups.values_list("name", flat=True)) == [group]
        assert group == username.capitalize()
        assert client.login(username=username, password=password)
        client.logout()
    assert "http://127.0.0.1:8000/admin/" in output
    assert "http://127.0.0.1:8000/articles/malis-military-deployments/" in output


def test_existing_accounts_are_used_and_left_alone(db, editor, moderator):
    output = load_demo()
    assert "password" not in output
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
    broken = demo.DemoSection(anchor="broken", title="Broken", body="Cites nothing real.[@no-such-source]")
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
    assert before["articles.Revision"] > 0 and before["auth.User"] == 2
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

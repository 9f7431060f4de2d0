"""Responsive figure images: renditions made with Pillow at publish time, shown with srcset."""

import io
import re
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from PIL import Image

from articles.models import Figure, PublicationState, Section
from articles.publishing import renditions
from articles.revisions import moderation
from tests import factories

pytestmark = pytest.mark.django_db


def image_upload(name="map.png", size=(1200, 800), fmt="PNG", mode="RGB", colour=(30, 120, 200)):
    buffer = io.BytesIO()
    Image.new(mode, size, colour).save(buffer, format=fmt)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=f"image/{fmt.lower()}")


def opened(name):
    with default_storage.open(name, "rb") as stored, Image.open(stored) as image:
        return image.format, image.size


def page(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def figure(moderator):
    return factories.figure(
        moderator, image_upload(), alt_text="A map of Mali", caption="Mali", credit="Mali History", licence="CC BY 4.0"
    )


# --- Making them ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "original, widths",
    [
        (400, [400]),
        (480, [480]),
        (1200, [480, 960, 1200]),
        (1600, [480, 960, 1600]),
        (3000, [480, 960, 1600]),
    ],
)
def test_widths_are_capped_at_the_original_never_upscaled(original, widths):
    assert renditions.planned_widths(original) == widths


def test_publishing_a_figure_makes_webp_and_fallback_renditions(figure):
    entries = figure.renditions
    assert sorted((e["width"], e["format"]) for e in entries) == [
        (480, "png"),
        (480, "webp"),
        (960, "png"),
        (960, "webp"),
        (1200, "png"),
        (1200, "webp"),
    ]
    for entry in entries:
        assert entry["name"].startswith(f"renditions/{figure.pk}/{entry['width']}.")
        assert entry["source"] == figure.image.name
        fmt, size = opened(entry["name"])
        assert fmt == {"webp": "WEBP", "png": "PNG"}[entry["format"]]
        assert size == (entry["width"], entry["height"])
        assert entry["height"] == round(800 * entry["width"] / 1200), "proportions are kept"


@pytest.mark.parametrize(
    "upload, fallback",
    [
        ({"name": "photo.jpg", "fmt": "JPEG"}, "jpeg"),
        ({"name": "photo.webp", "fmt": "WEBP"}, "jpeg"),
        ({"name": "logo.png", "mode": "RGBA", "colour": (0, 0, 0, 0)}, "png"),
        ({"name": "logo.webp", "fmt": "WEBP", "mode": "RGBA", "colour": (0, 0, 0, 0)}, "png"),
    ],
)
def test_the_fallback_is_jpeg_for_photos_and_png_for_transparency(moderator, upload, fallback):
    figure = factories.figure(moderator, image_upload(size=(700, 300), **upload))
    assert {e["format"] for e in figure.renditions} == {"webp", fallback}
    assert {e["width"] for e in figure.renditions} == {480, 700}
    for entry in figure.renditions:
        assert opened(entry["name"])[0] == {"webp": "WEBP", "png": "PNG", "jpeg": "JPEG"}[entry["format"]]


def test_a_small_image_gets_one_width(moderator):
    figure = factories.figure(moderator, image_upload(size=(300, 200)))
    assert {(e["width"], e["height"]) for e in figure.renditions} == {(300, 200)}


def test_a_proposed_figure_has_no_renditions_until_published(editor, moderator):
    figure = Figure(alt_text="Pending", state=PublicationState.DRAFT)
    upload = image_upload()
    figure.image.save(upload.name, upload, save=False)
    figure.save()
    revision = moderation.propose(obj=figure, author=editor, summary="Add", action="create")
    figure.refresh_from_db()
    assert figure.renditions == []
    assert not default_storage.exists(f"renditions/{figure.pk}")
    moderation.approve(revision=revision, moderator=moderator)
    factories.finish_follow_ups()
    figure.refresh_from_db()
    assert len(figure.renditions) == 6


def test_a_new_image_gets_new_files_and_the_old_ones_go_after_the_commit(
    moderator, figure, django_capture_on_commit_callbacks
):
    old = [e["name"] for e in figure.renditions]
    upload = image_upload(name="newer.png", size=(1000, 500), colour=(200, 30, 30))
    name = default_storage.save(f"figures/{upload.name}", upload)
    with django_capture_on_commit_callbacks(execute=True):
        moderation.publish_directly(
            obj=figure, moderator=moderator, summary="Better map", data={**figure.snapshot(), "image": name}
        )
        factories.finish_follow_ups()
    figure.refresh_from_db()
    new = [e["name"] for e in figure.renditions]
    assert {e["width"] for e in figure.renditions} == {480, 960, 1000}
    assert not set(old) & set(new), "a changed image never reuses a cached URL"
    assert all(default_storage.exists(n) for n in new)
    assert not any(default_storage.exists(n) for n in old)


def test_editing_the_caption_does_not_remake_the_renditions(moderator, figure, monkeypatch):
    monkeypatch.setattr(renditions, "make_renditions", lambda figure: pytest.fail("remade"))
    moderation.publish_directly(
        obj=figure, moderator=moderator, summary="Caption", data={**figure.snapshot(), "caption": "Mali, 2013"}
    )


# --- Showing them -----------------------------------------------------------------------------


@pytest.fixture
def article(moderator, figure):
    article = factories.article(moderator, title="Deployments", slug="deployments", lead_figure=figure)
    factories.section(
        moderator,
        article,
        title="Map",
        anchor="map",
        body=f"The country:\n\n![Mali and its regions]({figure.image.url})\n\n"
        "And an outside image: ![elsewhere](/media/figures/unknown.png)",
    )
    return article


def test_the_lead_figure_is_a_picture_with_srcset_and_size(client, article, figure):
    html = page(client.get(article.get_absolute_url()))
    lead = html[html.index('<figure class="lead-figure">') :]
    lead = lead[: lead.index("</figure>")]
    webp = re.search(r'<source type="image/webp" srcset="([^"]+)" sizes="([^"]+)">', lead)
    assert webp, lead
    assert webp.group(1) == (
        f"/media/renditions/{figure.pk}/480.webp 480w, /media/renditions/{figure.pk}/960.webp 960w, "
        f"/media/renditions/{figure.pk}/1200.webp 1200w"
    )
    img = re.search(r"<img [^>]+>", lead).group(0)
    assert f'src="{figure.image.url}"' in img
    assert f'srcset="/media/renditions/{figure.pk}/480.png 480w, ' in img
    assert 'sizes="(min-width: 62rem) 56rem, 100vw"' in img
    assert 'width="1200" height="800"' in img and 'alt="A map of Mali"' in img
    assert 'loading="lazy"' not in img, "the lead image is above the fold"
    assert 'fetchpriority="high"' in img
    assert "Image: Mali History, CC BY 4.0" in lead


def test_images_of_figures_in_section_text_become_lazy_pictures(client, article, figure):
    html = page(client.get(article.get_absolute_url()))
    section = html[html.index('id="map"') :]
    section = section[: section.index("</section>")]
    pictures = re.findall(r"<picture>.*?</picture>", section, re.S)
    assert len(pictures) == 1
    img = re.search(r"<img [^>]+>", pictures[0]).group(0)
    assert 'alt="Mali and its regions"' in img, "the author's alt text for this place"
    assert 'width="1200" height="800"' in img and 'loading="lazy"' in img and "srcset=" in img
    assert 'sizes="(min-width: 46rem) 42rem, 100vw"' in img
    assert '<img src="/media/figures/unknown.png" alt="elsewhere" loading="lazy">' in section


def test_a_section_showing_a_pending_figure_is_published_with_it(client, moderator, editor):
    """The section waits for its figure (tests/publishing/test_pending_figures.py); approved together,
    the article shows the figure's renditions."""
    figure = Figure(alt_text="Later", state=PublicationState.DRAFT)
    upload = image_upload(name="later.png")
    figure.image.save(upload.name, upload, save=False)
    figure.save()
    figure_revision = moderation.propose(obj=figure, author=editor, summary="Add", action="create")
    article = factories.article(moderator, slug="later")
    section = factories.section(moderator, article, body="Soon a map.")
    section_revision = moderation.propose(
        obj=section, author=editor, summary="Map", data={**section.snapshot(), "body": f"![Later]({figure.image.url})"}
    )
    moderation.approve_many(revisions=[section_revision, figure_revision], moderator=moderator)
    factories.finish_follow_ups()
    assert "<picture>" in page(client.get(article.get_absolute_url()))


def test_no_pillow_work_on_a_public_get(client, article, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("Pillow opened an image during a public request")

    monkeypatch.setattr(Image, "open", refuse)
    html = page(client.get(article.get_absolute_url()))
    assert html.count("<picture>") == 2
    page(client.get("/"))


def test_a_frozen_version_keeps_showing_the_original(client, article, figure):
    version = article.versions.order_by("-number").first()
    html = page(client.get(version.get_absolute_url()))
    assert f'<img src="{figure.image.url}" width="1200" height="800"' in html


# --- Backfill ---------------------------------------------------------------------------------


def test_make_renditions_backfills_figures_published_without_them(client, article, figure):
    for entry in figure.renditions:
        default_storage.delete(entry["name"])
    Figure.objects.filter(pk=figure.pk).update(renditions=[])
    Section.objects.filter(article=article).update(body_html="stale")
    assert "<picture>" not in page(client.get(article.get_absolute_url()))

    out = io.StringIO()
    call_command("make_renditions", stdout=out)
    assert "Made renditions for 1 figures" in out.getvalue()
    factories.finish_follow_ups()  # the sections showing it, rendered again in the background
    figure.refresh_from_db()
    assert len(figure.renditions) == 6 and renditions.files_exist(figure)
    assert page(client.get(article.get_absolute_url())).count("<picture>") == 2

    out = io.StringIO()
    call_command("make_renditions", stdout=out)
    assert "Made renditions for 0 figures; 1 were already current" in out.getvalue()


def test_make_renditions_remakes_lost_files(figure):
    for entry in figure.renditions:
        default_storage.delete(entry["name"])
    call_command("make_renditions", stdout=io.StringIO())
    figure.refresh_from_db()
    assert renditions.files_exist(figure)


def test_delete_all_removes_every_rendition_file_of_a_figure(figure, settings):
    """What load_demo calls when a failure rolls the figure back (see tests/ops/test_demo.py)."""
    directory = Path(settings.MEDIA_ROOT) / "renditions" / str(figure.pk)
    assert any(p.is_file() for p in directory.rglob("*"))
    renditions.delete_all(figure)
    assert not any(p.is_file() for p in directory.rglob("*"))

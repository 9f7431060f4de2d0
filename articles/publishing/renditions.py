"""Responsive renditions of figures: smaller copies made with Pillow when a figure is published.

Each live figure gets a copy at a few widths (never wider than the original) in WebP, plus a
fallback in the original's family (PNG for PNG sources and anything with transparency, JPEG
otherwise), stored with the default storage under ``renditions/<figure id>/<width>.<ext>`` and
listed on ``Figure.renditions``. Templates read that list (``Figure.picture``) to write
``<picture>`` markup with ``srcset``, ``sizes``, ``width`` and ``height``; no public request
ever opens an image.

Renditions are derived data, like rendered HTML: the background follow-up of a figure's publish
(``articles.publishing.followups``) calls :func:`refresh_figure`, and ``manage.py make_renditions`` backfills.
Files are written before the commit, so a figure that changes its image gets new file names
(storage never overwrites) and the old files are removed only once the new list is committed.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Iterable
from io import BytesIO
from urllib.parse import unquote

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from PIL import Image

from articles.models import Article, Figure, PublicationState, Section

logger = logging.getLogger(__name__)

WIDTHS = (480, 960, 1600)
WEBP_QUALITY = 82
JPEG_QUALITY = 85
EXTENSIONS = {"webp": "webp", "jpeg": "jpg", "png": "png"}
PILLOW_FORMATS = {"webp": "WEBP", "jpeg": "JPEG", "png": "PNG"}

# What the images are laid out at: the lead figure is at most 56rem wide, prose images 42rem.
LEAD_SIZES = "(min-width: 62rem) 56rem, 100vw"
PROSE_SIZES = "(min-width: 46rem) 42rem, 100vw"


def planned_widths(original_width: int) -> list[int]:
    """The widths to make for an image this wide: never wider than the original."""
    return sorted({min(width, original_width) for width in WIDTHS})


def _directory(figure: Figure) -> str:
    return f"renditions/{figure.pk}"


def _fallback_format(image: Image.Image) -> str:
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    return "png" if has_alpha or image.format == "PNG" else "jpeg"


def _encode(image: Image.Image, fmt: str, *, lossless: bool) -> bytes:
    buffer = BytesIO()
    if fmt == "webp":
        if lossless:
            image.save(buffer, "WEBP", lossless=True, quality=80, method=4)
        else:
            image.save(buffer, "WEBP", quality=WEBP_QUALITY, method=4)
    elif fmt == "jpeg":
        image.convert("RGB").save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    else:
        image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def make_renditions(figure: Figure) -> list[dict]:
    """Write the renditions of ``figure``'s image to storage; return their descriptions."""
    with figure.image.storage.open(figure.image.name, "rb") as stored, Image.open(stored) as original:
        original.load()
        source_format = original.format
        fallback = _fallback_format(original)
        has_alpha = original.mode in ("RGBA", "LA", "PA") or "transparency" in original.info
        image = original.convert("RGBA" if has_alpha else "RGB")
    # Uploads were normalised (orientation applied, metadata stripped) when they were accepted.
    # Diagrams arrive as PNG: lossy WebP blurs their lettering, so they stay lossless.
    lossless = source_format == "PNG"
    entries = []
    for width in planned_widths(image.width):
        height = max(1, round(image.height * width / image.width))
        resized = (
            image if width == image.width else image.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)
        )
        for fmt in ("webp", fallback):
            name = default_storage.save(
                f"{_directory(figure)}/{width}.{EXTENSIONS[fmt]}",
                ContentFile(_encode(resized, fmt, lossless=lossless)),
            )
            entries.append(
                {
                    "width": width,
                    "height": height,
                    "format": fmt,
                    "name": name,
                    "source": figure.image.name,
                }
            )
    return entries


def is_current(figure: Figure) -> bool:
    """True when the recorded renditions were made from the figure's present image at every width."""
    entries = figure.renditions or []
    if not figure.image or not entries or figure.width is None:
        return False
    if any(entry.get("source") != figure.image.name for entry in entries):
        return False
    widths = {entry["width"] for entry in entries if entry["format"] == "webp"}
    return widths == set(planned_widths(figure.width))


def refresh_figure(figure: Figure, *, force: bool = False) -> bool:
    """Make the renditions of a live figure unless they are current; True when new ones were made.

    Called by the figure's follow-up (articles.publishing.followups) inside a transaction of its own. Files of
    renditions that the new list replaces are deleted after the commit; if the transaction rolls
    back, the new files are left unused.
    """
    if figure.state != PublicationState.LIVE or not figure.image:
        return False  # Kept as they are: restoring the figure needs no new work.
    if not force and is_current(figure):
        return False
    old_names = {entry["name"] for entry in figure.renditions or []}
    entries = make_renditions(figure)
    Figure.objects.filter(pk=figure.pk).update(renditions=entries)
    figure.renditions = entries
    obsolete = old_names - {entry["name"] for entry in entries}
    if obsolete:
        transaction.on_commit(lambda: delete_files(obsolete))
    return True


def delete_files(names: Iterable[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except OSError:  # pragma: no cover - a storage that cannot delete leaves an unused file
            logger.warning("Could not delete the rendition %s", name)


def delete_all(figure: Figure) -> None:
    """Remove every rendition file of a figure: for a figure whose creation was rolled back."""
    directory = _directory(figure)
    try:
        _, files = default_storage.listdir(directory)
    except (FileNotFoundError, NotImplementedError):
        return
    delete_files(f"{directory}/{name}" for name in files)


# --- Publishing: images in section Markdown -------------------------------------------------

_IMG = re.compile(r"<img\b[^>]*>")
_ATTRIBUTE = re.compile(r'([a-zA-Z-]+)="([^"]*)"')


def _stored_name(src: str) -> str | None:
    media_url = settings.MEDIA_URL
    if not media_url or not src.startswith(media_url):
        return None
    return unquote(src[len(media_url) :])


def rewrite_images(html_text: str) -> str:
    """Turn ``<img>`` tags of live figures in rendered, sanitised HTML into ``<picture>`` markup.

    Runs at publish time on the sanitiser's output, whose attributes are double-quoted. Images
    that are not live figures with renditions are left as they are.
    """
    tags = {}
    for match in _IMG.finditer(html_text):
        attributes = {k: html.unescape(v) for k, v in _ATTRIBUTE.findall(match.group(0))}
        name = _stored_name(attributes.get("src", ""))
        if name:
            tags[match.group(0)] = (name, attributes)
    if not tags:
        return html_text
    figures = {f.image.name: f for f in Figure.objects.published().filter(image__in={n for n, _ in tags.values()})}
    replacements = {}
    for tag, (name, attributes) in tags.items():
        figure = figures.get(name)
        picture = figure.picture if figure else None
        if picture is None:
            continue
        replacements[tag] = render_to_string(
            "includes/picture.html",
            {
                "picture": picture,
                # The author's alt text for this place wins; the figure's own is the fallback.
                "alt": attributes.get("alt") or figure.alt_text,
                "sizes": PROSE_SIZES,
                "lazy": True,
                # Readers on a phone open the image itself to read its detail.
                "full_size_url": figure.image.url,
            },
        ).strip()
    if not replacements:
        return html_text
    return _IMG.sub(lambda m: replacements.get(m.group(0), m.group(0)), html_text)


def articles_showing_in_text(figure: Figure) -> QuerySet[Article]:
    """Articles with a published section whose Markdown shows this figure's image."""
    if not figure.image:
        return Article.objects.none()
    article_ids = Section.objects.filter(
        state=PublicationState.LIVE, body__contains=f"]({figure.image.url}"
    ).values_list("article_id", flat=True)
    return Article.objects.filter(pk__in=article_ids)


def files_exist(figure: Figure) -> bool:
    """Whether every recorded rendition is still in storage (for the backfill command, not for pages)."""
    return all(default_storage.exists(entry["name"]) for entry in figure.renditions or [])

"""The editor's preview and upload endpoints (articles/uploads.py).

They answer at django-markdownx's URL names, so the package's widget posts to them: only signed-in
editors may use them, every upload is validated and re-encoded, and a refused upload stores nothing.
"""

from __future__ import annotations

import io
import re
import struct
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import ExifTags, Image

from articles.models import Figure, PublicationState, Revision, RevisionAction, RevisionStatus
from articles.publishing.fragments import render_standalone
from tests import factories

pytestmark = pytest.mark.django_db

UPLOAD_URL = reverse("markdownx_upload")
PREVIEW_URL = reverse("markdownx_markdownify")
HOSTILE_MARKDOWN = (
    'Hello **world**\n\n<script>alert("x")</script>\n\n<img src=x onerror="alert(1)">\n\n[a](javascript:alert(1))'
)


# ---------------------------------------------------------------- helpers


class Tags(HTMLParser):
    """Every element and attribute in a piece of HTML."""

    def __init__(self):
        super().__init__()
        self.names, self.attributes = [], []

    def handle_starttag(self, tag, attrs):
        self.names.append(tag)
        self.attributes.extend(attrs)


def image_bytes(fmt: str, size=(40, 30), **params) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=fmt, **params)
    return buffer.getvalue()


def upload(name: str, data: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def exif_with_gps() -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "SecretCam"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (16.0, 46.0, 33.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "W"
    gps[ExifTags.GPS.GPSLongitude] = (3.0, 0.0, 36.0)
    return exif


def png_chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body))


def bomb_png(width: int, height: int) -> bytes:
    """A valid 1-bit PNG declaring width×height pixels that compresses to almost nothing."""
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    row = b"\x00" + bytes((width + 7) // 8)
    compressor = zlib.compressobj(9)
    parts = [compressor.compress(row * min(1000, height - done)) for done in range(0, height, 1000)]
    parts.append(compressor.flush())
    return (
        b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", b"".join(parts)) + png_chunk(b"IEND", b"")
    )


def stored_files(root=None) -> list[Path]:
    """Files written by uploads: pending ones are in the private storage, not under MEDIA_ROOT."""
    roots = [Path(root)] if root else [Path(settings.MEDIA_ROOT), Path(settings.PRIVATE_MEDIA_ROOT)]
    return [path for root in roots if root.exists() for path in root.rglob("*") if path.is_file()]


def assert_nothing_stored():
    assert Figure.objects.count() == 0
    assert Revision.objects.count() == 0
    assert stored_files() == []


def error_of(response) -> str:
    assert response["Content-Type"].startswith("application/json")
    message = response.json()["error"]
    assert isinstance(message, str) and len(message) > 10
    return message


@pytest.fixture
def reader(db):
    """Signed in, but not staff: a reader's account."""
    user = User.objects.create_user("reader", password=factories.PASSWORD)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def staff_without_group(db):
    """Staff, but in neither editorial group: may not propose content."""
    user = User.objects.create_user("intern", password=factories.PASSWORD, is_staff=True)
    client = Client()
    client.force_login(user)
    return client


# ---------------------------------------------------------------- who may use them


@pytest.mark.parametrize("who", ["anonymous", "reader", "staff_without_group"])
def test_only_editors_may_upload(who, request):
    client = Client() if who == "anonymous" else request.getfixturevalue(who)
    response = client.post(UPLOAD_URL, {"image": upload("x.png", image_bytes("PNG"), "image/png")})

    assert response.status_code == 403
    error_of(response)
    assert_nothing_stored()


@pytest.mark.parametrize("who", ["anonymous", "reader", "staff_without_group"])
def test_only_editors_may_preview(who, request):
    client = Client() if who == "anonymous" else request.getfixturevalue(who)
    response = client.post(PREVIEW_URL, {"content": "**secret draft**"})

    assert response.status_code == 403
    assert b"<strong>" not in response.content


@pytest.mark.parametrize("url", [UPLOAD_URL, PREVIEW_URL])
def test_get_is_not_allowed(url, editor_client):
    assert editor_client.get(url).status_code == 405
    assert Client().get(url).status_code == 405


@pytest.mark.parametrize("url", [UPLOAD_URL, PREVIEW_URL])
def test_answers_are_never_cached(url, editor_client):
    response = editor_client.post(url, {"content": "x"})

    assert "no-store" in response["Cache-Control"]


def test_csrf_token_is_required(editor):
    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)

    refused = client.post(UPLOAD_URL, {"image": upload("x.png", image_bytes("PNG"), "image/png")})
    assert refused.status_code == 403
    assert client.post(PREVIEW_URL, {"content": "x"}).status_code == 403
    assert_nothing_stored()

    client.get(reverse("admin:articles_section_add"))  # a page with a form sets the CSRF cookie
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    accepted = client.post(PREVIEW_URL, {"content": "**x**"}, headers={"X-CSRFToken": token})
    assert accepted.status_code == 200
    assert "<strong>x</strong>" in accepted.content.decode()


# ---------------------------------------------------------------- preview


def test_preview_is_the_readers_renderer(editor_client):
    text = "# Title\n\nSome **bold** and a note[^1].\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n[^1]: The note."
    response = editor_client.post(PREVIEW_URL, {"content": text})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    html = response.content.decode()
    # A page of its own for the editor's frame, with the public stylesheet and the readers' renderer.
    assert re.search(r'<link rel="stylesheet" href="/static/css/site\.css', html)
    assert render_standalone(text) in html
    assert "<strong>bold</strong>" in html
    assert "<table>" in html


def test_preview_never_returns_hostile_markup(editor_client):
    html = editor_client.post(PREVIEW_URL, {"content": HOSTILE_MARKDOWN}).content.decode()

    assert render_standalone(HOSTILE_MARKDOWN) in html
    assert "<strong>world</strong>" in html
    tags = Tags()
    tags.feed(html)
    assert "script" not in tags.names
    # The hostile markup may come back as visible, escaped text, never as markup.
    assert not [name for name, _ in tags.attributes if name.startswith("on")]
    assert not [value for _, value in tags.attributes if "javascript:" in (value or "").lower()]


def test_empty_preview(editor_client):
    response = editor_client.post(PREVIEW_URL, {})

    assert response.status_code == 200
    assert '<div class="section-body prose"></div>' in response.content.decode()


# ---------------------------------------------------------------- accepted uploads


@pytest.mark.parametrize(
    ("fmt", "extension"),
    [("PNG", "png"), ("JPEG", "jpg"), ("WEBP", "webp")],
)
@pytest.mark.parametrize("name", ["x.gif", "evil.html", "photo"])
def test_real_images_become_draft_figures_named_by_their_format(fmt, extension, name, editor_client, editor):
    response = editor_client.post(UPLOAD_URL, {"image": upload(name, image_bytes(fmt), "image/gif")})

    assert response.status_code == 200, response.content
    data = response.json()
    figure = Figure.objects.get()
    assert data["figure_id"] == figure.pk
    assert figure.state == PublicationState.DRAFT
    assert figure.image.name.startswith("figures/")
    assert figure.image.name.endswith(f".{extension}")
    assert ".gif" not in figure.image.name and ".html" not in figure.image.name
    assert (figure.width, figure.height) == (40, 30)
    assert data["image_code"] == f"![{figure.alt_text}]({figure.image.url})"
    assert re.fullmatch(r"!\[\]\(/media/figures/[\w-]+\.(png|jpg|webp)\)", data["image_code"])

    revision = Revision.objects.get()
    assert revision.status == RevisionStatus.PENDING
    assert revision.action == RevisionAction.CREATE
    assert revision.author == editor
    assert revision.object_id == figure.pk
    assert revision.data["image"] == figure.image.name

    (stored,) = stored_files()
    assert stored_files(settings.MEDIA_ROOT) == []  # nothing public before approval
    assert stored.suffix == f".{extension}"
    with Image.open(stored) as reopened:
        assert reopened.format == fmt


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP", "PNG"])
def test_location_and_camera_data_are_removed(fmt, editor_client):
    original = image_bytes(fmt, exif=exif_with_gps())
    with Image.open(io.BytesIO(original)) as source:
        assert source.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the test image really has GPS

    response = editor_client.post(UPLOAD_URL, {"image": upload("holiday.jpg", original, "image/jpeg")})

    assert response.status_code == 200, response.content
    (stored,) = stored_files()
    content = stored.read_bytes()
    assert b"SecretCam" not in content
    with Image.open(stored) as reopened:
        assert len(reopened.getexif()) == 0
        assert "exif" not in reopened.info


def test_hostile_file_names_do_not_reach_the_text_or_the_disk(editor_client):
    name = "../../etc/](javascript:alert(1))[<b>.png"
    response = editor_client.post(UPLOAD_URL, {"image": upload(name, image_bytes("PNG"), "image/png")})

    assert response.status_code == 200, response.content
    code = response.json()["image_code"]
    assert re.fullmatch(r"!\[[^\[\]()<>]*\]\(/media/figures/[\w-]+\.png\)", code), code
    (stored,) = stored_files()
    assert stored.parent == Path(settings.PRIVATE_MEDIA_ROOT) / "figures"


@pytest.mark.parametrize("name", [".png", "..png", "...", "-.png", "%00.png"])
def test_file_names_without_a_stem_still_upload(name, editor_client):
    response = editor_client.post(UPLOAD_URL, {"image": upload(name, image_bytes("PNG"), "image/png")})

    assert response.status_code == 200, response.content
    assert Figure.objects.get().image.name.endswith(".png")


def test_moderators_may_upload_too(moderator_client):
    response = moderator_client.post(UPLOAD_URL, {"image": upload("map.png", image_bytes("PNG"), "image/png")})

    assert response.status_code == 200
    assert Figure.objects.get().state == PublicationState.DRAFT  # still reviewed like any content


# ---------------------------------------------------------------- refused uploads


HOSTILE_FILES = {
    "html disguised as gif": (
        "x.gif",
        b"<!doctype html><html><script>alert(document.cookie)</script></html>",
        "image/gif",
    ),
    "svg with script": (
        "x.svg",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        "image/svg+xml",
    ),
    "svg named png": ("x.png", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "image/png"),
    "garbage bytes": ("x.jpg", bytes(range(256)) * 20, "image/jpeg"),
    "empty file": ("x.png", b"", "image/png"),
    "truncated png": ("x.png", image_bytes("PNG")[:60], "image/png"),
    "gif": ("x.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "image/gif"),
    "decompression bomb": ("bomb.png", bomb_png(30000, 30000), "image/png"),
}


@pytest.mark.parametrize("case", HOSTILE_FILES, ids=list(HOSTILE_FILES))
def test_hostile_files_are_refused_with_a_readable_error(case, editor_client):
    name, data, content_type = HOSTILE_FILES[case]
    response = editor_client.post(UPLOAD_URL, {"image": upload(name, data, content_type)})

    assert response.status_code == 400
    message = error_of(response)
    assert "Traceback" not in message and "<" not in message
    assert_nothing_stored()


def test_decompression_bomb_message_names_the_limit(editor_client):
    response = editor_client.post(UPLOAD_URL, {"image": upload("bomb.png", bomb_png(30000, 30000), "image/png")})

    assert response.status_code == 400
    assert "pixels" in error_of(response)


def test_oversized_file_is_refused(editor_client, settings):
    settings.FIGURE_MAX_UPLOAD_BYTES = 1000
    data = image_bytes("PNG", size=(300, 300), compress_level=0)
    assert len(data) > 1000

    response = editor_client.post(UPLOAD_URL, {"image": upload("big.png", data, "image/png")})

    assert response.status_code == 400
    assert "at most" in error_of(response)
    assert_nothing_stored()


def test_missing_image_field_is_refused(editor_client):
    response = editor_client.post(UPLOAD_URL, {"file": upload("x.png", image_bytes("PNG"), "image/png")})

    assert response.status_code == 400
    assert "No image" in error_of(response)
    assert_nothing_stored()


def test_file_is_removed_when_the_proposal_cannot_be_stored(editor_client, monkeypatch):
    from articles.revisions import moderation

    def broken_propose(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(moderation, "propose", broken_propose)
    with pytest.raises(RuntimeError):
        editor_client.post(UPLOAD_URL, {"image": upload("x.png", image_bytes("PNG"), "image/png")})

    assert_nothing_stored()

"""Hostile uploads through the admin's Figure form and the editor's /markdownx/upload/, and how they are served.

articles.content.images itself is tested in tests/content/test_images.py, and the upload endpoint's refusals in
tests/admin/test_markdownx_endpoints.py. Here: polyglots (HTML, PHP or a ZIP hidden in a real image), the
admin path for every kind of hostile file, and the headers the stored file is served with
(django.views.static in development and tests; deploy/nginx.conf.example in production).
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, get_resolver, reverse
from django.views.static import serve
from PIL import ExifTags, Image, PngImagePlugin

from articles.models import Figure, PublicationState
from tests.admin.test_markdownx_endpoints import bomb_png, exif_with_gps

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
HTML = b"<html><body><script>alert(document.domain)</script></body></html>"
PHP = b"<?php system($_GET['c']); ?>"
# Nothing of these may survive into a stored file.
HOSTILE_MARKERS = (b"<script", b"<html", b"<?php", b"PK\x03\x04", b"alert(", b"SecretCam", b"GPS")
CONTENT_TYPES = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}


def encode(image, fmt, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def photo(mode="RGB", size=(48, 32), colour=(200, 40, 40)):
    return Image.new(mode, size, colour)


def zip_archive() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("META-INF/MANIFEST.MF", "Main-Class: Evil\n")
        archive.writestr("index.html", HTML)
    return buffer.getvalue()


def png_with_text(text: bytes) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", text.decode())
    return encode(photo(), "PNG", pnginfo=info)


def jpeg_with_php_in_exif() -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.ImageDescription] = PHP.decode()
    exif[ExifTags.Base.Make] = "SecretCam"
    return encode(photo(), "JPEG", exif=exif)


def animated(fmt) -> bytes:
    frames = [photo(colour=c) for c in ((200, 0, 0), (0, 200, 0), (0, 0, 200))]
    return encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)


# Stored, re-encoded: (upload name, bytes, expected stored extension, check of the stored image).
STORED = {
    "jpeg with html in a comment": ("photo.jpg", lambda: encode(photo(), "JPEG", comment=HTML), "jpg", None),
    "jpeg with html after its end": ("photo.jpg", lambda: encode(photo(), "JPEG") + HTML, "jpg", None),
    "jpeg with a zip after its end (gifar)": (
        "photo.jpg",
        lambda: encode(photo(), "JPEG") + zip_archive(),
        "jpg",
        None,
    ),
    "jpeg with php in its exif": ("photo.jpg", jpeg_with_php_in_exif, "jpg", None),
    "png with html in a text chunk": ("map.png", lambda: png_with_text(HTML), "png", None),
    "png with html after its end": ("map.png", lambda: encode(photo(), "PNG") + HTML, "png", None),
    "webp with html in its xmp": ("x.webp", lambda: encode(photo(), "WEBP", xmp=HTML), "webp", None),
    "png named .jpg": ("photo.jpg", lambda: encode(photo(), "PNG"), "png", None),
    "jpeg named .html": ("page.html", lambda: encode(photo(), "JPEG"), "jpg", None),
    "exif with gps": ("phone.jpg", lambda: encode(photo(), "JPEG", exif=exif_with_gps()), "jpg", None),
    "cmyk jpeg": (
        "print.jpg",
        lambda: encode(photo("CMYK", colour=(0, 255, 255, 0)), "JPEG"),
        "jpg",
        lambda im: im.mode == "RGB",
    ),
    "16-bit png": (
        "scan.png",
        lambda: encode(Image.new("I;16", (40, 30), 40000), "PNG"),
        "png",
        lambda im: im.mode == "L",
    ),
    "animated png": ("anim.png", lambda: animated("PNG"), "png", lambda im: getattr(im, "n_frames", 1) == 1),
    "animated webp": ("anim.webp", lambda: animated("WEBP"), "webp", lambda im: getattr(im, "n_frames", 1) == 1),
}

# Refused: (upload name, bytes, words of the message the editor reads).
REFUSED = {
    "decompression bomb": ("bomb.png", lambda: bomb_png(30000, 30000), "pixels"),
    "enormous width": ("strip.png", lambda: bomb_png(20000, 4), "pixels on each side"),
    "truncated jpeg": ("cut.jpg", lambda: encode(photo(size=(300, 200)), "JPEG")[:700], "incomplete"),
    "svg with script": (
        "map.svg",
        lambda: b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        "not an image",
    ),
    "html named .jpg": ("photo.jpg", lambda: HTML, "not an image"),
    "html behind a jpeg signature": ("photo.jpg", lambda: b"\xff\xd8\xff\xe0" + HTML, "Upload"),
    "pdf named .png": ("doc.png", lambda: b"%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n", "not an image"),
    "gif": ("anim.gif", lambda: encode(photo(), "GIF"), "PNG, JPEG or WebP"),
}
# tests/admin/test_markdownx_endpoints.py already sends these to the upload endpoint.
ENDPOINT_ALREADY_COVERED = {"decompression bomb", "svg with script", "html named .jpg", "gif"}


@pytest.fixture
def media_served_from_this_tests_root(monkeypatch):
    """The project's own /media/ route, pointed at this test's MEDIA_ROOT (bound once, at import)."""
    for pattern in get_resolver().url_patterns:
        if isinstance(pattern, URLPattern) and pattern.callback is serve:
            monkeypatch.setitem(pattern.default_args, "document_root", settings.MEDIA_ROOT)
            return
    pytest.fail("the project serves no /media/ route in tests")


def admin_upload(client, name, data):
    return client.post(
        reverse("admin:articles_figure_add"),
        {
            "image": SimpleUploadedFile(name, data, content_type="image/jpeg"),
            "alt_text": "An upload",
            "caption": "",
            "credit": "",
            "licence": "",
            "edit_summary": "Add an image",
            "publish_now": "on",
        },
    )


def stored_files() -> list[Path]:
    roots = [Path(settings.MEDIA_ROOT), Path(settings.PRIVATE_MEDIA_ROOT)]
    return [p for root in roots if root.exists() for p in root.rglob("*") if p.is_file()]


def assert_stored_safely(figure: Figure, extension: str, check, client, url):
    """The stored copy is clean, and served at ``url`` (public once approved, else the staff view)."""
    assert figure.image.name.endswith(f".{extension}")
    stored = Path(figure.image.path).read_bytes()
    for marker in HOSTILE_MARKERS:
        assert marker not in stored, marker
    with Image.open(io.BytesIO(stored)) as image:
        assert {"png": "PNG", "jpg": "JPEG", "webp": "WEBP"}[extension] == image.format
        assert len(image.getexif()) == 0
        assert not {"exif", "xmp", "XML:com.adobe.xmp", "comment", "Comment", "icc_profile"} & image.info.keys()
        if check is not None:
            assert check(image)
    # Served with the type of what it really is, and browsers told not to guess otherwise.
    if url == figure.image.url:
        client.logout()
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == CONTENT_TYPES[extension]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == stored


@pytest.mark.parametrize("case", STORED, ids=list(STORED))
def test_admin_figure_form_stores_a_clean_copy(
    case, client, moderator, media_served_from_this_tests_root, django_capture_on_commit_callbacks
):
    name, make, extension, check = STORED[case]
    client.force_login(moderator)
    with django_capture_on_commit_callbacks(execute=True):  # published: public once committed
        response = admin_upload(client, name, make())
    assert response.status_code == 302, response.context["adminform"].form.errors
    figure = Figure.objects.get()
    assert figure.state == PublicationState.LIVE
    assert_stored_safely(figure, extension, check, client, figure.image.url)


@pytest.mark.parametrize("case", STORED, ids=list(STORED))
def test_editor_upload_endpoint_stores_a_clean_copy(case, client, editor, media_served_from_this_tests_root):
    name, make, extension, check = STORED[case]
    client.force_login(editor)
    response = client.post(reverse("markdownx_upload"), {"image": SimpleUploadedFile(name, make(), "image/png")})
    assert response.status_code == 200, response.content
    figure = Figure.objects.get()
    assert figure.state == PublicationState.DRAFT
    assert re.fullmatch(rf"!\[[^\]]*\]\(/media/figures/[\w-]+\.{extension}\)", response.json()["image_code"])
    # Waiting for approval: staff see it through their own view, readers not at all.
    assert_stored_safely(figure, extension, check, client, reverse("pending_figure_image", args=[figure.image.name]))
    client.logout()
    assert client.get(figure.image.url).status_code == 404


@pytest.mark.parametrize("case", REFUSED, ids=list(REFUSED))
def test_admin_figure_form_refuses_with_a_clear_message(case, client, moderator):
    name, make, words = REFUSED[case]
    client.force_login(moderator)
    response = admin_upload(client, name, make())
    assert response.status_code == 200
    errors = " ".join(response.context["adminform"].form.errors["image"])
    assert words in errors, errors
    assert "Traceback" not in errors and "<" not in errors
    assert Figure.objects.count() == 0
    assert stored_files() == []


@pytest.mark.parametrize("case", sorted(set(REFUSED) - ENDPOINT_ALREADY_COVERED))
def test_editor_upload_endpoint_refuses_with_a_clear_message(case, client, editor):
    name, make, words = REFUSED[case]
    client.force_login(editor)
    response = client.post(reverse("markdownx_upload"), {"image": SimpleUploadedFile(name, make(), "image/png")})
    assert response.status_code == 400
    assert words in response.json()["error"]
    assert Figure.objects.count() == 0
    assert stored_files() == []


def test_media_in_production_is_served_with_nosniff_and_a_sandbox():
    """Production serves media from nginx, not Django: its example config must keep the same guarantees."""
    config = (ROOT / "deploy" / "nginx.conf.example").read_text()
    block = re.search(r"location /media/ \{(.*?)\n    \}", config, re.S)
    assert block, "deploy/nginx.conf.example has no /media/ location"
    assert re.search(r"add_header X-Content-Type-Options nosniff", block.group(1))
    assert re.search(r"Content-Security-Policy \"[^\"]*sandbox", block.group(1))

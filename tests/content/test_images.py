"""Tests for articles.content.images: validation and normalisation of uploaded images.

Every test image is generated in memory with Pillow (or crafted byte by byte).
"""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image, ImageCms, ImageFile, PngImagePlugin

from articles.content.images import ALLOWED_FORMATS, NormalisedImage, normalise_image

MiB = 1024 * 1024
RED = (255, 0, 0)
BLUE = (0, 0, 255)


# ---------------------------------------------------------------- helpers


def encode(image: Image.Image, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def solid(fmt: str, size=(40, 30), colour=RED, mode="RGB", **params) -> bytes:
    return encode(Image.new(mode, size, colour), fmt, **params)


def reopen(result: NormalisedImage) -> Image.Image:
    image = Image.open(io.BytesIO(result.content))
    image.load()
    return image


def refusal(data, **kwargs) -> ValidationError:
    source = data if hasattr(data, "read") else io.BytesIO(data)
    with pytest.raises(ValidationError) as info:
        normalise_image(source, **kwargs)
    return info.value


def message(error: ValidationError) -> str:
    (text,) = error.messages
    return text


def close_to(pixel, expected, tolerance=40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, expected, strict=True))


def png_chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body))


def bomb_png(width: int, height: int) -> bytes:
    """A valid 1-bit greyscale PNG of width×height that compresses to almost nothing."""
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    row = b"\x00" + bytes((width + 7) // 8)
    compressor = zlib.compressobj(9)
    parts = []
    done = 0
    while done < height:
        rows = min(1000, height - done)
        parts.append(compressor.compress(row * rows))
        done += rows
    parts.append(compressor.flush())
    return (
        b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", b"".join(parts)) + png_chunk(b"IEND", b"")
    )


class CountingReader:
    """A non-seekable binary stream without a size that counts what is read."""

    def __init__(self, data: bytes):
        self._stream = io.BytesIO(data)
        self.bytes_read = 0

    def read(self, size=-1):
        chunk = self._stream.read(size)
        self.bytes_read += len(chunk)
        return chunk


class HugeUpload:
    """Looks like an UploadedFile whose declared size is over the limit."""

    def __init__(self, size: int):
        self.size = size
        self.name = "huge.jpg"
        self.read_calls = 0

    def read(self, size=-1):  # pragma: no cover - must not be called
        self.read_calls += 1
        return b""


@pytest.fixture
def no_pixel_decoding(monkeypatch):
    """Record every attempt to decode pixel data."""
    calls = []
    original = ImageFile.ImageFile.load

    def spy(self):
        calls.append(self.size)
        return original(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    return calls


# ---------------------------------------------------------------- accepted


@pytest.mark.parametrize(
    ("fmt", "extension", "content_type"),
    [("PNG", "png", "image/png"), ("JPEG", "jpg", "image/jpeg"), ("WEBP", "webp", "image/webp")],
)
def test_valid_images_are_accepted(fmt, extension, content_type):
    result = normalise_image(io.BytesIO(solid(fmt, size=(64, 48))))

    assert result.format == fmt
    assert result.extension == extension
    assert result.content_type == content_type
    assert (result.width, result.height) == (64, 48)
    assert ALLOWED_FORMATS[fmt] == (extension, content_type)
    out = reopen(result)
    assert out.format == fmt
    assert out.size == (64, 48)
    assert close_to(out.convert("RGB").getpixel((10, 10)), RED)


def test_result_is_frozen():
    result = normalise_image(io.BytesIO(solid("PNG")))
    with pytest.raises(AttributeError):
        result.format = "GIF"


def test_django_uploaded_file_is_accepted_even_after_being_read():
    upload = SimpleUploadedFile("photo.jpg", solid("JPEG"), content_type="image/jpeg")
    upload.read()  # e.g. a form field already looked at it

    result = normalise_image(upload)

    assert result.format == "JPEG"
    assert upload.tell() == 0  # rewound for whoever reads it next


def test_images_within_limits_are_not_downscaled():
    # django-markdownx would shrink this to 500×500 by default.
    result = normalise_image(io.BytesIO(solid("JPEG", size=(1600, 900))))
    assert (result.width, result.height) == (1600, 900)
    assert reopen(result).size == (1600, 900)


def test_image_exactly_at_the_side_limit_is_accepted():
    result = normalise_image(io.BytesIO(solid("PNG", size=(200, 20))), max_side=200)
    assert result.width == 200


def test_phone_style_mpo_jpeg_is_accepted_as_jpeg():
    first, second = Image.new("RGB", (32, 32), RED), Image.new("RGB", (32, 32), BLUE)
    data = encode(first, "MPO", save_all=True, append_images=[second])
    assert Image.open(io.BytesIO(data)).format == "MPO"

    result = normalise_image(io.BytesIO(data))

    assert (result.format, result.extension) == ("JPEG", "jpg")
    out = reopen(result)
    assert out.format == "JPEG"
    assert close_to(out.getpixel((5, 5)), RED)


# ---------------------------------------------------------------- names


def test_name_and_content_type_from_the_browser_are_ignored():
    upload = SimpleUploadedFile("evil.html", solid("PNG"), content_type="text/html")

    result = normalise_image(upload)
    content_file = result.as_content_file("evil.html")

    assert result.format == "PNG"
    assert result.content_type == "image/png"
    assert content_file.name == "evil.png"
    assert content_file.read() == result.content


@pytest.mark.parametrize(
    ("stem", "expected"),
    [
        ("Tombouctou manuscrit", "tombouctou-manuscrit.jpg"),
        ("../../etc/passwd", "passwd.jpg"),
        ("C:\\Users\\x\\Djenné mosque.GIF", "djenne-mosque.jpg"),
        ("<script>alert(1)</script>", "script.jpg"),
        ("2024.05 market", "202405-market.jpg"),
        ("", "image.jpg"),
        ("...", "image.jpg"),
    ],
)
def test_content_file_name_is_a_slug_with_the_detected_extension(stem, expected):
    result = normalise_image(io.BytesIO(solid("JPEG")))
    assert result.as_content_file(stem).name == expected


# ---------------------------------------------------------------- refused: not images


def test_html_disguised_as_gif_is_refused():
    html = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
    upload = SimpleUploadedFile("x.gif", html, content_type="image/gif")

    error = refusal(upload)

    assert error.code == "not_an_image"
    assert message(error) == ("This file is not an image this site can read. Upload a PNG, JPEG or WebP image.")


def test_svg_with_script_is_refused():
    svg = (
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        b"<script>alert(1)</script><rect width='10' height='10'/></svg>"
    )
    error = refusal(SimpleUploadedFile("map.svg", svg, content_type="image/svg+xml"))
    assert error.code == "not_an_image"
    assert "not an image" in message(error)


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n",
        b"just some text, not a picture\n" * 10,
        bytes(range(256)) * 4,
        b"\x89PNG\r\n\x1a\n",  # a PNG signature and nothing else
    ],
    ids=["pdf", "text", "garbage", "png-signature-only"],
)
def test_non_images_are_refused(data):
    error = refusal(data)
    assert error.code in {"not_an_image", "truncated"}
    assert "Upload" in message(error)


def test_empty_file_is_refused():
    error = refusal(b"")
    assert error.code == "empty"
    assert message(error) == "This file is empty. Upload a PNG, JPEG or WebP image."


def test_gif_is_refused_by_format():
    error = refusal(SimpleUploadedFile("anim.gif", solid("GIF"), content_type="image/gif"))
    assert error.code == "format_not_allowed"
    assert message(error) == "GIF images are not accepted. Upload a PNG, JPEG or WebP image."


@pytest.mark.parametrize("fmt", ["BMP", "TIFF"])
def test_other_pillow_formats_are_refused(fmt):
    # Even when the browser claims it is a PNG.
    error = refusal(SimpleUploadedFile("x.png", solid(fmt), content_type="image/png"))
    assert error.code == "format_not_allowed"
    assert message(error).startswith(f"{fmt} images are not accepted.")


# ---------------------------------------------------------------- refused: damaged


@pytest.mark.parametrize("load_truncated", [False, True])
@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_truncated_images_are_refused(monkeypatch, fmt, load_truncated):
    # Even if some other code switched on Pillow's LOAD_TRUNCATED_IMAGES.
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", load_truncated)
    noisy = Image.effect_noise((128, 128), 64).convert("RGB")
    data = encode(noisy, fmt)

    error = refusal(data[: len(data) * 2 // 3])

    assert error.code == "truncated"
    assert message(error).startswith("This image file is incomplete;")


def test_jpeg_missing_only_its_end_marker_is_refused(monkeypatch):
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    data = solid("JPEG")
    assert data.endswith(b"\xff\xd9")
    assert refusal(data[:-2]).code == "truncated"


def test_png_with_a_bad_checksum_is_refused():
    data = bytearray(encode(Image.effect_noise((32, 32), 64), "PNG"))
    idat = data.index(b"IDAT")
    data[idat + 10] ^= 0xFF

    error = refusal(bytes(data))

    assert error.code == "corrupt"
    assert "damaged" in message(error)


def test_trailing_bytes_after_a_complete_jpeg_are_tolerated():
    result = normalise_image(io.BytesIO(solid("JPEG") + b"\x00" * 100))
    assert result.format == "JPEG"


# ---------------------------------------------------------------- refused: size limits


def test_too_many_bytes_are_refused_without_reading_everything():
    data = encode(Image.effect_noise((300, 300), 64), "PNG")
    reader = CountingReader(data)

    error = refusal(reader, max_bytes=1000)

    assert error.code == "too_large"
    assert reader.bytes_read == 1001
    assert message(error) == ("This file is larger than 1000 bytes; images may be at most 1000 bytes.")


def test_declared_size_over_the_limit_is_refused_before_reading():
    upload = HugeUpload(int(7.2 * MiB))

    error = refusal(upload, max_bytes=5 * MiB)

    assert error.code == "too_large"
    assert upload.read_calls == 0
    assert message(error) == "This file is 7.2 MB; images may be at most 5 MB."


def test_file_exactly_at_the_byte_limit_is_accepted():
    data = solid("PNG")
    assert normalise_image(io.BytesIO(data), max_bytes=len(data)).format == "PNG"
    assert refusal(data, max_bytes=len(data) - 1).code == "too_large"


def test_decompression_bomb_is_refused_before_decoding(no_pixel_decoding):
    data = bomb_png(30000, 30000)  # 900 million pixels in about 100 KB
    assert len(data) < 1 * MiB

    error = refusal(data, max_pixels=40_000_000)

    assert error.code == "too_many_pixels"
    assert message(error) == ("This image is 30000×30000 pixels; images may have at most 40 million pixels.")
    assert no_pixel_decoding == []


def test_too_many_pixels_are_refused_before_decoding(no_pixel_decoding):
    data = bomb_png(9000, 6000)  # 54 million: below Pillow's own guard, above ours
    assert Image.MAX_IMAGE_PIXELS > 6000 * 9000

    error = refusal(data, max_pixels=40_000_000, max_side=10**6)

    assert error.code == "too_many_pixels"
    assert message(error) == ("This image is 9000×6000 pixels; images may have at most 40 million pixels.")
    assert no_pixel_decoding == []


def test_pillow_decompression_bomb_error_is_refused(monkeypatch, no_pixel_decoding):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    error = refusal(solid("PNG", size=(50, 50)), max_pixels=10**9)  # 2500 > 2 × 1000
    assert error.code == "too_many_pixels"
    assert message(error) == ("This image is 50×50 pixels; images may have at most 1,000 pixels.")
    assert no_pixel_decoding == []


def test_pillow_decompression_bomb_warning_is_an_error(monkeypatch, no_pixel_decoding):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    error = refusal(solid("PNG", size=(40, 40)), max_pixels=10**9)  # 1600: only a warning
    assert error.code == "too_many_pixels"
    assert message(error) == ("This image is 40×40 pixels; images may have at most 1,000 pixels.")
    assert no_pixel_decoding == []


def test_too_large_dimensions_are_refused(no_pixel_decoding):
    error = refusal(solid("PNG", size=(300, 20)), max_side=200)
    assert error.code == "too_large_dimensions"
    assert message(error) == ("This image is 300×20 pixels; images may be at most 200 pixels on each side.")
    assert no_pixel_decoding == []


def test_limits_default_to_the_settings(settings):
    settings.FIGURE_MAX_SIDE = 50
    settings.FIGURE_MAX_PIXELS = 10**9
    settings.FIGURE_MAX_UPLOAD_BYTES = 10 * MiB
    assert refusal(solid("PNG", size=(60, 10))).code == "too_large_dimensions"

    settings.FIGURE_MAX_SIDE = 8000
    settings.FIGURE_MAX_PIXELS = 100
    assert refusal(solid("PNG", size=(20, 10))).code == "too_many_pixels"

    settings.FIGURE_MAX_PIXELS = 10**9
    settings.FIGURE_MAX_UPLOAD_BYTES = 10
    assert refusal(solid("PNG")).code == "too_large"


# ---------------------------------------------------------------- orientation and metadata


def exif_with_secrets(orientation: int | None = None) -> Image.Exif:
    exif = Image.Exif()
    if orientation is not None:
        exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "SecretCam"
    exif[ExifTags.Base.Artist] = "Secret Photographer"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (16.0, 46.0, 33.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "W"
    gps[ExifTags.GPS.GPSLongitude] = (3.0, 0.0, 36.0)
    return exif


XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF>SecretXMP</rdf:RDF></x:xmpmeta>'


def assert_no_metadata(result: NormalisedImage) -> None:
    for secret in (b"SecretCam", b"Secret Photographer", b"SecretXMP", b"secret comment", b"Exif"):
        assert secret not in result.content
    out = reopen(result)
    assert len(out.getexif()) == 0
    for key in ("exif", "xmp", "XML:com.adobe.xmp", "comment", "icc_profile", "Comment", "Author"):
        assert key not in out.info


def test_exif_orientation_is_applied():
    # Left half red, right half blue; orientation 6 = rotate 90° clockwise to display.
    image = Image.new("RGB", (80, 40), RED)
    image.paste(BLUE, (40, 0, 80, 40))
    data = encode(image, "JPEG", exif=exif_with_secrets(orientation=6), quality=95)

    result = normalise_image(io.BytesIO(data))

    assert (result.width, result.height) == (40, 80)
    out = reopen(result)
    assert out.size == (40, 80)
    assert close_to(out.getpixel((20, 10)), RED)  # the left half is now on top
    assert close_to(out.getpixel((20, 70)), BLUE)
    assert len(out.getexif()) == 0  # orientation not applied twice by viewers


def test_jpeg_metadata_including_gps_is_stripped():
    data = encode(
        Image.new("RGB", (40, 30), RED),
        "JPEG",
        exif=exif_with_secrets(),
        xmp=XMP,
        comment=b"secret comment",
        icc_profile=ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes(),
        dpi=(300, 300),
    )
    source = Image.open(io.BytesIO(data))
    assert source.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the test data really has GPS
    assert {"exif", "xmp", "comment", "icc_profile"} <= source.info.keys()

    result = normalise_image(io.BytesIO(data))

    assert_no_metadata(result)
    assert close_to(reopen(result).getpixel((5, 5)), RED)


def test_png_metadata_and_text_chunks_are_stripped():
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "secret comment")
    info.add_itxt("Author", "Secret Photographer")
    info.add_text("XML:com.adobe.xmp", XMP.decode())
    data = encode(
        Image.new("RGB", (40, 30), RED),
        "PNG",
        pnginfo=info,
        exif=exif_with_secrets(),
        icc_profile=ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes(),
    )
    assert b"SecretCam" in data and b"Secret Photographer" in data

    result = normalise_image(io.BytesIO(data))

    assert_no_metadata(result)
    for chunk in (b"tEXt", b"iTXt", b"zTXt", b"eXIf", b"iCCP"):
        assert chunk not in result.content


def test_webp_metadata_is_stripped():
    data = encode(Image.new("RGB", (40, 30), RED), "WEBP", exif=exif_with_secrets(), xmp=XMP)
    assert b"SecretCam" in data and b"SecretXMP" in data

    result = normalise_image(io.BytesIO(data))

    assert_no_metadata(result)
    assert b"EXIF" not in result.content and b"XMP " not in result.content


def test_unusable_icc_profile_is_dropped_not_fatal():
    data = encode(Image.new("RGB", (20, 20), RED), "JPEG", icc_profile=b"not a profile" * 10)
    result = normalise_image(io.BytesIO(data))
    out = reopen(result)
    assert "icc_profile" not in out.info
    assert close_to(out.getpixel((5, 5)), RED)


# ---------------------------------------------------------------- colour modes


def test_cmyk_jpeg_becomes_rgb():
    data = encode(Image.new("CMYK", (32, 32), (0, 255, 255, 0)), "JPEG")
    assert Image.open(io.BytesIO(data)).mode == "CMYK"

    result = normalise_image(io.BytesIO(data))

    out = reopen(result)
    assert result.format == "JPEG"
    assert out.mode == "RGB"
    assert close_to(out.getpixel((10, 10)), RED)


def test_greyscale_jpeg_stays_greyscale():
    out = reopen(normalise_image(io.BytesIO(solid("JPEG", mode="L", colour=100))))
    assert out.mode == "L"
    assert abs(out.getpixel((5, 5)) - 100) <= 3


def test_sixteen_bit_png_becomes_eight_bit():
    image = Image.new("I;16", (16, 8), 0)
    image.paste(65535, (0, 0, 8, 8))
    image.paste(32896, (8, 0, 16, 8))  # 128 × 257
    data = encode(image, "PNG")
    assert Image.open(io.BytesIO(data)).mode == "I;16"

    out = reopen(normalise_image(io.BytesIO(data)))

    assert out.mode == "L"
    assert out.getpixel((2, 2)) == 255
    assert out.getpixel((12, 2)) == 128  # scaled, not clipped to 255


def test_animated_png_keeps_only_the_first_frame():
    frames = [Image.new("RGB", (24, 24), colour) for colour in (RED, BLUE, (0, 255, 0))]
    data = encode(frames[0], "PNG", save_all=True, append_images=frames[1:], duration=100)
    assert Image.open(io.BytesIO(data)).n_frames == 3

    result = normalise_image(io.BytesIO(data))

    out = reopen(result)
    assert getattr(out, "n_frames", 1) == 1
    assert not getattr(out, "is_animated", False)
    assert b"acTL" not in result.content and b"fcTL" not in result.content
    assert out.convert("RGB").getpixel((5, 5)) == RED


def test_animated_webp_keeps_only_the_first_frame():
    frames = [Image.new("RGB", (24, 24), colour) for colour in (RED, BLUE)]
    data = encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=100)
    assert Image.open(io.BytesIO(data)).n_frames == 2

    out = reopen(normalise_image(io.BytesIO(data)))

    assert getattr(out, "n_frames", 1) == 1
    assert close_to(out.convert("RGB").getpixel((5, 5)), RED)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_alpha_is_kept(fmt):
    image = Image.new("RGBA", (20, 20), (255, 0, 0, 128))
    image.paste((0, 0, 255, 0), (10, 0, 20, 20))
    params = {"lossless": True} if fmt == "WEBP" else {}

    out = reopen(normalise_image(io.BytesIO(encode(image, fmt, **params))))

    assert out.mode == "RGBA"
    assert out.getpixel((2, 2))[3] == 128
    assert out.getpixel((15, 2))[3] == 0


def test_palette_png_keeps_its_transparency():
    image = Image.new("P", (20, 20), 1)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * (254 * 3))
    image.paste(0, (0, 0, 10, 20))
    data = encode(image, "PNG", transparency=0)

    out = reopen(normalise_image(io.BytesIO(data))).convert("RGBA")

    assert out.getpixel((2, 2))[3] == 0
    assert out.getpixel((15, 2)) == (255, 0, 0, 255)


def test_greyscale_with_alpha_png_keeps_alpha():
    data = encode(Image.new("LA", (10, 10), (200, 50)), "PNG")
    out = reopen(normalise_image(io.BytesIO(data)))
    assert out.mode in {"LA", "RGBA"}
    assert out.getpixel((1, 1))[-1] == 50


def test_rgb_png_with_transparent_colour_gets_an_alpha_channel():
    image = Image.new("RGB", (10, 10), RED)
    image.paste(BLUE, (5, 0, 10, 10))
    data = encode(image, "PNG", transparency=BLUE)

    out = reopen(normalise_image(io.BytesIO(data)))

    assert out.mode == "RGBA"
    assert out.getpixel((7, 1))[3] == 0
    assert out.getpixel((1, 1)) == (255, 0, 0, 255)


def test_lossless_webp_stays_lossless():
    data = encode(Image.effect_noise((32, 32), 64).convert("RGB"), "WEBP", lossless=True)
    result = normalise_image(io.BytesIO(data))
    assert b"VP8L" in result.content
    assert list(reopen(result).getdata()) == list(Image.open(io.BytesIO(data)).getdata())


# ---------------------------------------------------------------- messages


@pytest.mark.parametrize(
    ("data", "kwargs", "fragment"),
    [
        (b"", {}, "empty"),
        (b"<html></html>", {}, "not an image"),
        ("gif", {}, "not accepted"),
        ("png", {"max_bytes": 10}, "at most 10 bytes"),
        ("png", {"max_pixels": 100}, "at most 100 pixels"),
        ("png", {"max_side": 10}, "on each side"),
        ("truncated", {}, "incomplete"),
    ],
)
def test_every_message_is_a_human_sentence(data, kwargs, fragment):
    samples = {
        "gif": solid("GIF"),
        "png": solid("PNG"),
        "truncated": solid("JPEG")[:200],
    }
    text = message(refusal(samples.get(data, data), **kwargs))

    assert fragment in text
    assert text[0].isupper()
    assert text.endswith(".")
    assert "Error" not in text and "PIL" not in text and "Pillow" not in text

"""Validation and normalisation of uploaded images.

Every image that reaches the site (Figure uploads in the admin and
django-markdownx's drag-and-drop endpoint) goes through
:func:`normalise_image`, which:

* reads at most ``max_bytes + 1`` bytes of the upload, so a huge upload is
  refused without being read in full;
* identifies the format with Pillow, never from the file name or the
  browser's content type; only PNG, JPEG and WebP are accepted;
* refuses decompression bombs before any pixel data is decoded (the declared
  width × height is checked first, and Pillow's own
  ``DecompressionBombWarning`` is treated as an error);
* refuses truncated and damaged files, with its own structural checks, so it
  does not depend on ``PIL.ImageFile.LOAD_TRUNCATED_IMAGES`` being ``False``;
* applies the EXIF orientation, converts colours to 8-bit sRGB (ICC profiles
  are converted when LittleCMS can, then dropped), strips every piece of
  metadata (EXIF including GPS, XMP, comments, PNG text chunks, ICC) and
  re-encodes in the detected format;
* keeps only the first frame of an animated PNG or WebP;
* never scales an image down: images within the limits keep their full size,
  images larger than ``max_side`` on a side are refused.

The module is pure: it imports nothing from the project's models.
"""

from __future__ import annotations

import contextlib
import re
import warnings
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.files.base import ContentFile
from django.utils.text import slugify
from PIL import Image, ImageOps

from articles.content.image_errors import (
    _corrupt,
    _empty,
    _format_not_allowed,
    _not_an_image,
    _too_large,
    _too_large_dimensions,
    _too_many_pixels,
    _truncated,
)
from articles.content.image_structure import _STRUCTURE_CHECKS, _webp_is_lossless

try:  # LittleCMS ships in Pillow's wheels, but a source build may lack it.
    from PIL import ImageCms
except ImportError:  # pragma: no cover - depends on the Pillow build
    ImageCms = None  # type: ignore[assignment]

__all__ = [
    "ALLOWED_FORMATS",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_PIXELS",
    "DEFAULT_MAX_SIDE",
    "NormalisedImage",
    "normalise_image",
]

#: Pillow format name -> (file extension, content type).
ALLOWED_FORMATS = {
    "PNG": ("png", "image/png"),
    "JPEG": ("jpg", "image/jpeg"),
    "WEBP": ("webp", "image/webp"),
}

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
DEFAULT_MAX_PIXELS = 40_000_000
DEFAULT_MAX_SIDE = 8000

JPEG_QUALITY = 88
WEBP_QUALITY = 85

# Formats Pillow may report for an accepted file.  A JPEG carrying an MPF
# index (common on phones) is opened by Pillow's JPEG plugin as "MPO"; it is
# a JPEG.
_FORMAT_ALIASES = {"MPO": "JPEG"}
_OPEN_FORMATS = ("PNG", "JPEG", "WEBP")
_SIGNATURES = {
    "PNG": lambda data: data.startswith(b"\x89PNG\r\n\x1a\n"),
    "JPEG": lambda data: data.startswith(b"\xff\xd8\xff"),
    "WEBP": lambda data: data[:4] == b"RIFF" and data[8:12] == b"WEBP",
}
_BOMB_PIXELS_RE = re.compile(r"\((\d+) pixels\)")

_READ_CHUNK = 64 * 1024
_SIXTEEN_BIT_MODES = {"I;16", "I;16B", "I;16L", "I;16N", "I"}
_ALPHA_MODES = {"RGBA", "LA", "PA", "RGBa", "La"}
_EXTENSION_RE = re.compile(r"^[A-Za-z0-9]{1,5}$")
_MAX_STEM_LENGTH = 80


def _setting(name: str, default: int) -> int:
    """Read ``settings.<name>`` lazily, falling back to ``default``."""
    try:
        from django.conf import settings

        value = getattr(settings, name, default)
    except ImproperlyConfigured:
        return default
    return default if value is None else value


# --------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class NormalisedImage:
    """A re-encoded, metadata-free image ready to be stored."""

    content: bytes
    format: str  # "PNG" | "JPEG" | "WEBP", as detected by Pillow
    extension: str  # derived from ``format``
    content_type: str  # derived from ``format``
    width: int  # after EXIF orientation
    height: int  # after EXIF orientation

    def as_content_file(self, stem: str) -> ContentFile:
        """Wrap the content in a ``ContentFile`` named ``<slug>.<extension>``.

        ``stem`` may be a bare stem or a browser-supplied file name: any
        directory part and a trailing extension (``.html``, ``.gif`` ...) are
        dropped, the rest is slugified, and the extension always comes from
        the detected format.
        """
        return ContentFile(self.content, name=f"{safe_stem(stem)}.{self.extension}")


def safe_stem(name: str) -> str:
    """Turn a (possibly hostile) file name or stem into a safe ASCII slug."""
    base = re.split(r"[\\/]", str(name or ""))[-1]
    stem, dot, suffix = base.rpartition(".")
    if dot and stem and _EXTENSION_RE.match(suffix):
        base = stem
    slug = slugify(base)[:_MAX_STEM_LENGTH].strip("-_")
    return slug or "image"


# --------------------------------------------------------------------------
# Messages
# --------------------------------------------------------------------------


# --------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------


def _declared_size(uploaded: Any) -> int | None:
    try:
        size = uploaded.size
    except (AttributeError, OSError, TypeError, ValueError):
        return None
    return size if isinstance(size, int) and not isinstance(size, bool) else None


def _rewind(uploaded: Any) -> None:
    with contextlib.suppress(AttributeError, OSError, ValueError):
        uploaded.seek(0)


def _read_capped(uploaded: Any, max_bytes: int) -> bytes:
    """Read at most ``max_bytes + 1`` bytes; refuse anything larger."""
    declared = _declared_size(uploaded)
    if declared is not None and declared > max_bytes:
        raise _too_large(declared, max_bytes)
    _rewind(uploaded)
    parts: list[bytes] = []
    remaining = max_bytes + 1
    while remaining > 0:
        chunk = uploaded.read(min(remaining, _READ_CHUNK))
        if not chunk:
            break
        if not isinstance(chunk, (bytes, bytearray, memoryview)):
            raise TypeError("normalise_image() needs a binary file, not a text file.")
        parts.append(bytes(chunk))
        remaining -= len(chunk)
    _rewind(uploaded)
    data = b"".join(parts)
    if len(data) > max_bytes:
        raise _too_large(declared if declared and declared > max_bytes else None, max_bytes)
    return data


# --------------------------------------------------------------------------
# Pixels
# --------------------------------------------------------------------------


def _sixteen_to_eight(im: Image.Image) -> Image.Image:
    """Scale a 16-bit (or 32-bit integer) greyscale image down to 8-bit "L"."""
    wide = im if im.mode == "I" else im.convert("I")
    # 0..65535 -> 0..255; plain convert("L") would clip instead of scaling.
    return wide.point(lambda value: value / 257).convert("L")


def _has_transparency(im: Image.Image) -> bool:
    return im.mode in _ALPHA_MODES or "transparency" in im.info


def _to_srgb(im: Image.Image, target_mode: str) -> Image.Image:
    """Convert ``im`` to ``target_mode`` ("RGB"/"RGBA"), honouring an ICC profile."""
    icc = im.info.get("icc_profile")
    if icc and ImageCms is not None and im.mode in {"RGB", "RGBA", "CMYK"}:
        try:
            source = ImageCms.ImageCmsProfile(BytesIO(icc))
            converted = ImageCms.profileToProfile(im, source, _srgb_profile(), outputMode=target_mode)
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            converted = None  # unusable profile: fall back to a plain conversion
        if converted is not None:
            return converted
    return im if im.mode == target_mode else im.convert(target_mode)


_SRGB_PROFILE = None


def _srgb_profile():
    global _SRGB_PROFILE
    if _SRGB_PROFILE is None:
        _SRGB_PROFILE = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    return _SRGB_PROFILE


def _convert_colours(im: Image.Image, fmt: str) -> Image.Image:
    """Bring ``im`` to an 8-bit mode the output format stores without surprises.

    PNG keeps "1", "L", "LA", "P" (with its transparency), "RGB" and "RGBA";
    JPEG gets "L" or "RGB" (CMYK/YCCK become RGB, never alpha); WebP gets
    "RGB" or "RGBA".  Everything else becomes RGB, or RGBA when it has
    transparency (except for JPEG).
    """
    if im.mode in _SIXTEEN_BIT_MODES:
        im = _sixteen_to_eight(im)
    elif im.mode == "F":
        im = im.convert("L")  # clips to 0..255

    transparent = _has_transparency(im) and fmt != "JPEG"
    if fmt == "PNG" and im.mode == "P":
        return im
    if fmt == "PNG" and im.mode == "LA":
        return im
    if im.mode in {"1", "L"} and not transparent:
        return im if fmt == "PNG" or im.mode == "L" else im.convert("L")
    return _to_srgb(im, "RGBA" if transparent else "RGB")


# --------------------------------------------------------------------------
# Main entry point
# --------------------------------------------------------------------------


def normalise_image(
    uploaded: Any,
    *,
    max_bytes: int | None = None,
    max_pixels: int | None = None,
    max_side: int | None = None,
) -> NormalisedImage:
    """Validate an uploaded image and return a clean, re-encoded copy.

    ``uploaded`` is a Django ``UploadedFile`` or any binary file-like object.
    The limits default to the settings ``FIGURE_MAX_UPLOAD_BYTES`` (5 MiB),
    ``FIGURE_MAX_PIXELS`` (40 million) and ``FIGURE_MAX_SIDE`` (8000 px).

    Only PNG, JPEG and WebP are accepted, identified by Pillow from the
    bytes themselves.  The result has the EXIF orientation applied, no
    metadata at all (EXIF, GPS, XMP, comments, text chunks, ICC profile),
    8-bit sRGB colours, and is re-encoded in the detected format at full
    size.  Of an animated PNG or WebP only the first frame is kept.

    Raises ``django.core.exceptions.ValidationError`` with an
    editor-readable message and one of the codes ``too_large``, ``empty``,
    ``not_an_image``, ``format_not_allowed``, ``too_many_pixels``,
    ``too_large_dimensions``, ``truncated`` or ``corrupt``.
    """
    if max_bytes is None:
        max_bytes = _setting("FIGURE_MAX_UPLOAD_BYTES", DEFAULT_MAX_BYTES)
    if max_pixels is None:
        max_pixels = _setting("FIGURE_MAX_PIXELS", DEFAULT_MAX_PIXELS)
    if max_side is None:
        max_side = _setting("FIGURE_MAX_SIDE", DEFAULT_MAX_SIDE)

    data = _read_capped(uploaded, max_bytes)
    if not data:
        raise _empty()

    # Note: catch_warnings() changes process-wide state on Python < 3.14; the
    # worst a concurrent thread can see is a bomb *warning* escalated to an
    # error, which only makes it stricter.
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        fmt, size = _identify(data, max_pixels, max_side)
        _STRUCTURE_CHECKS[fmt](data)
        image = _decode(data, fmt, max_pixels)

    try:
        with contextlib.suppress(Exception):  # broken EXIF: keep the stored orientation
            ImageOps.exif_transpose(image, in_place=True)
        image = _convert_colours(image, fmt)
        return _encode(image, fmt, lossless=fmt == "WEBP" and _webp_is_lossless(data))
    finally:
        image.close()


def _identify(data: bytes, max_pixels: int, max_side: int) -> tuple[str, tuple[int, int]]:
    """Identify and verify the file without decoding pixels."""
    try:
        probe = Image.open(BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _bomb(exc, data, max_pixels) from None
    except Exception:  # noqa: BLE001 - Pillow raises many types on hostile input
        # A cut-off PNG/JPEG/WebP often can't even be opened: say so.
        for fmt, looks_like in _SIGNATURES.items():
            if looks_like(data):
                _STRUCTURE_CHECKS[fmt](data)
        raise _not_an_image() from None

    with probe:
        fmt = _FORMAT_ALIASES.get(probe.format or "", probe.format or "")
        if fmt not in ALLOWED_FORMATS:
            raise _format_not_allowed(probe.format or "?")
        width, height = probe.size
        if width * height > max_pixels:
            raise _too_many_pixels((width, height), max_pixels)
        if max(width, height) > max_side:
            raise _too_large_dimensions((width, height), max_side)
        try:
            probe.verify()
        except Exception as exc:  # noqa: BLE001
            raise _error_for(exc) from None
    return fmt, (width, height)


def _decode(data: bytes, fmt: str, max_pixels: int) -> Image.Image:
    """Reopen the file (verify() leaves it unusable) and decode the first frame."""
    try:
        image = Image.open(BytesIO(data), formats=_OPEN_FORMATS)
        if _FORMAT_ALIASES.get(image.format, image.format) != fmt:
            image.close()
            raise _not_an_image()
        image.load()
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _bomb(exc, data, max_pixels) from None
    except Exception as exc:  # noqa: BLE001
        raise _error_for(exc) from None
    return image


def _bomb(exc: BaseException, data: bytes, max_pixels: int) -> ValidationError:
    """Pillow's own decompression-bomb guard fired while reading the header.

    Pillow's guard (``Image.MAX_IMAGE_PIXELS``) normally sits above
    ``max_pixels``; if it is lower, it is the limit the editor must meet.
    """
    if Image.MAX_IMAGE_PIXELS:
        max_pixels = min(max_pixels, int(Image.MAX_IMAGE_PIXELS))
    size = _header_dimensions(data)
    if size is not None:
        return _too_many_pixels(size, max_pixels)
    match = _BOMB_PIXELS_RE.search(str(exc))
    return _too_many_pixels(None, max_pixels, int(match.group(1)) if match else None)


def _header_dimensions(data: bytes) -> tuple[int, int] | None:
    """Width and height declared in an accepted format's header, or None.

    Used only to word the message when Pillow's own guard refused the file:
    the plugin classes parse the header without the guard and without
    decoding pixels.
    """
    from PIL import JpegImagePlugin, PngImagePlugin, WebPImagePlugin

    plugins = {
        "PNG": PngImagePlugin.PngImageFile,
        "JPEG": JpegImagePlugin.JpegImageFile,
        "WEBP": WebPImagePlugin.WebPImageFile,
    }
    for fmt, looks_like in _SIGNATURES.items():
        if looks_like(data):
            try:
                with plugins[fmt](BytesIO(data)) as header:
                    return header.size
            except Exception:  # noqa: BLE001
                return None
    return None


def _error_for(exc: BaseException) -> ValidationError:
    text = str(exc).lower()
    if "truncated" in text or "incomplete" in text or isinstance(exc, EOFError):
        return _truncated()
    return _corrupt()


def _encode(image: Image.Image, fmt: str, *, lossless: bool) -> NormalisedImage:
    params: dict[str, Any] = {}
    if fmt == "JPEG":
        params = {"quality": JPEG_QUALITY, "optimize": True, "progressive": True}
    elif fmt == "PNG":
        params = {"optimize": True}
        if image.mode == "P" and "transparency" in image.info:
            params["transparency"] = image.info["transparency"]
    elif fmt == "WEBP":
        params = {"lossless": True} if lossless else {"quality": WEBP_QUALITY}

    # Drop everything Pillow collected from the source file (EXIF, XMP, ICC,
    # comments, text chunks, dpi, gamma ...) so that nothing is written back.
    image.info = {}
    image.encoderinfo = {}

    buffer = BytesIO()
    image.save(buffer, format=fmt, **params)
    extension, content_type = ALLOWED_FORMATS[fmt]
    return NormalisedImage(
        content=buffer.getvalue(),
        format=fmt,
        extension=extension,
        content_type=content_type,
        width=image.width,
        height=image.height,
    )

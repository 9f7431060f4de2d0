"""What an editor is told when an upload is refused: one message per problem, with the limits in words."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.utils.translation import gettext as _gettext


def _(message: str) -> str:
    """Translate ``message``, or return it as is when Django isn't configured."""
    try:
        return _gettext(message)
    except ImproperlyConfigured:
        return message


def _accepted() -> str:
    return _("Upload a PNG, JPEG or WebP image.")


def _format_bytes(size: int) -> str:
    if size < 1024:
        return f"{size} bytes" if size != 1 else "1 byte"
    if size < 1024 * 1024:
        value, unit = size / 1024, "KB"
    else:
        value, unit = size / (1024 * 1024), "MB"
    text = f"{value:.1f}".removesuffix(".0")
    return f"{text} {unit}"


def _format_pixels(count: int) -> str:
    if count >= 1_000_000 and count % 100_000 == 0:
        return f"{count / 1_000_000:g} million"
    return f"{count:,}"


def _too_large(size: int | None, limit: int) -> ValidationError:
    limit_text = _format_bytes(limit)
    if size is not None and _format_bytes(size) != limit_text:
        return ValidationError(
            _("This file is %(size)s; images may be at most %(limit)s."),
            code="too_large",
            params={"size": _format_bytes(size), "limit": limit_text},
        )
    return ValidationError(
        _("This file is larger than %(limit)s; images may be at most %(limit)s."),
        code="too_large",
        params={"limit": limit_text},
    )


def _empty() -> ValidationError:
    return ValidationError(
        _("This file is empty. %(accepted)s"),
        code="empty",
        params={"accepted": _accepted()},
    )


def _not_an_image() -> ValidationError:
    return ValidationError(
        _("This file is not an image this site can read. %(accepted)s"),
        code="not_an_image",
        params={"accepted": _accepted()},
    )


def _format_not_allowed(fmt: str) -> ValidationError:
    return ValidationError(
        _("%(format)s images are not accepted. %(accepted)s"),
        code="format_not_allowed",
        params={"format": fmt, "accepted": _accepted()},
    )


def _too_many_pixels(size: tuple[int, int] | None, limit: int, pixels: int | None = None) -> ValidationError:
    if size is None and pixels is not None:
        return ValidationError(
            _("This image has %(pixels)s pixels; images may have at most %(limit)s pixels."),
            code="too_many_pixels",
            params={"pixels": _format_pixels(pixels), "limit": _format_pixels(limit)},
        )
    if size is None:
        return ValidationError(
            _("This image has too many pixels; images may have at most %(limit)s pixels."),
            code="too_many_pixels",
            params={"limit": _format_pixels(limit)},
        )
    return ValidationError(
        _("This image is %(width)s×%(height)s pixels; images may have at most %(limit)s pixels."),
        code="too_many_pixels",
        params={"width": size[0], "height": size[1], "limit": _format_pixels(limit)},
    )


def _too_large_dimensions(size: tuple[int, int], limit: int) -> ValidationError:
    return ValidationError(
        _("This image is %(width)s×%(height)s pixels; images may be at most %(limit)s pixels on each side."),
        code="too_large_dimensions",
        params={"width": size[0], "height": size[1], "limit": f"{limit:,}"},
    )


def _truncated() -> ValidationError:
    return ValidationError(
        _(
            "This image file is incomplete; it may have been cut off while it "
            "was saved or uploaded. Upload the complete file."
        ),
        code="truncated",
    )


def _corrupt() -> ValidationError:
    return ValidationError(
        _(
            "This image file is damaged and cannot be read. Upload a PNG, JPEG "
            "or WebP image that opens correctly on your computer."
        ),
        code="corrupt",
    )

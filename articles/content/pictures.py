"""A figure's renditions as templates show them: ``<picture>`` with ``srcset`` (made by publishing.renditions)."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.files.storage import default_storage

CONTENT_TYPES = {"webp": "image/webp", "jpeg": "image/jpeg", "png": "image/png"}


@dataclass(frozen=True)
class Picture:
    """A figure's renditions as the attributes of ``<picture>`` (see includes/picture.html)."""

    src: str
    width: int
    height: int
    webp_srcset: str
    fallback_srcset: str
    fallback_type: str

    @classmethod
    def for_figure(cls, figure) -> Picture | None:
        """None when the figure has no current renditions: templates then show the original."""
        entries = figure.renditions or []
        if not entries or not figure.image or not figure.width or not figure.height:
            return None
        if any(entry.get("source") != figure.image.name for entry in entries):
            return None  # Made from an earlier image: never show the wrong picture.

        def srcset(fmt):
            chosen = sorted((e for e in entries if e["format"] == fmt), key=lambda e: e["width"])
            return ", ".join(f"{default_storage.url(e['name'])} {e['width']}w" for e in chosen)

        fallback = next((e["format"] for e in entries if e["format"] != "webp"), None)
        if fallback is None:
            return None
        return cls(
            # The original stays the plain ``src``, for clients that ignore srcset.
            src=figure.image.url,
            width=figure.width,
            height=figure.height,
            webp_srcset=srcset("webp"),
            fallback_srcset=srcset(fallback),
            fallback_type=CONTENT_TYPES[fallback],
        )

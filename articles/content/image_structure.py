"""Structural checks of PNG, JPEG and WebP files, independent of Pillow's LOAD_TRUNCATED_IMAGES."""

from __future__ import annotations

import struct
import zlib

from articles.content.image_errors import _corrupt, _truncated

# --------------------------------------------------------------------------
# Structural checks (independent of Pillow's LOAD_TRUNCATED_IMAGES)
# --------------------------------------------------------------------------


def _check_png_structure(data: bytes) -> None:
    """Walk the PNG chunks up to IEND, checking every length and CRC."""
    pos = 8
    end = len(data)
    while True:
        if pos + 12 > end:
            raise _truncated()
        length, ctype = struct.unpack(">I4s", data[pos : pos + 8])
        body_end = pos + 8 + length
        if length > 0x7FFFFFFF or body_end + 4 > end:
            raise _truncated()
        (crc,) = struct.unpack(">I", data[body_end : body_end + 4])
        if zlib.crc32(data[pos + 4 : body_end]) != crc:
            raise _corrupt()
        if ctype == b"IEND":
            return
        pos = body_end + 4


def _check_jpeg_structure(data: bytes) -> None:
    """Walk the JPEG markers and require an EOI after the last scan."""
    end = len(data)
    pos = 2  # after SOI
    while True:
        # Find the next marker (skipping fill bytes).
        # libjpeg tolerates stray bytes before a marker; so do we.
        pos = data.find(b"\xff", pos)
        if pos < 0:
            raise _truncated()
        while pos < end and data[pos] == 0xFF:
            pos += 1
        if pos >= end:
            raise _truncated()
        marker = data[pos]
        pos += 1
        if marker == 0xD9:  # EOI
            return
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:  # TEM / RSTn: no length
            continue
        if pos + 2 > end:
            raise _truncated()
        (length,) = struct.unpack(">H", data[pos : pos + 2])
        if length < 2:
            raise _corrupt()
        pos += length
        if pos > end:
            raise _truncated()
        if marker == 0xDA:  # SOS: skip the entropy-coded data
            while True:
                pos = data.find(b"\xff", pos)
                if pos < 0 or pos + 1 >= end:
                    raise _truncated()
                following = data[pos + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
                    pos += 1 if following == 0xFF else 2
                    continue
                break


def _check_webp_structure(data: bytes) -> None:
    """Check the RIFF container: declared size present, chunks within it."""
    if len(data) < 12:
        raise _truncated()
    (riff_size,) = struct.unpack("<I", data[4:8])
    riff_end = 8 + riff_size
    if riff_size < 4 or len(data) < riff_end:
        raise _truncated()
    pos = 12
    while pos < riff_end:
        if pos + 8 > riff_end:
            raise _truncated()
        (chunk_size,) = struct.unpack("<I", data[pos + 4 : pos + 8])
        body_end = pos + 8 + chunk_size
        if body_end > riff_end:
            raise _truncated()
        pos = body_end + (chunk_size & 1)


_STRUCTURE_CHECKS = {
    "PNG": _check_png_structure,
    "JPEG": _check_jpeg_structure,
    "WEBP": _check_webp_structure,
}


def _webp_is_lossless(data: bytes) -> bool:
    """True if the (first) image of a WebP file uses the lossless codec."""
    pos = 12
    end = min(len(data), 8 + struct.unpack("<I", data[4:8])[0])
    while pos + 8 <= end:
        ctype = data[pos : pos + 4]
        (size,) = struct.unpack("<I", data[pos + 4 : pos + 8])
        if ctype == b"VP8L":
            return True
        if ctype == b"VP8 ":
            return False
        if ctype == b"ANMF":  # animation frame: its image chunk follows a 16-byte header
            pos += 8 + 16
            continue
        pos += 8 + size + (size & 1)
    return False

"""Thumbnails: made once per image file (Pillow), kept in memory as PNG bytes."""

from __future__ import annotations

import io
import os
from functools import lru_cache

from PIL import Image, ImageDraw, UnidentifiedImageError

THUMB_SIZE = 128


def thumbnail(path: str | None, size: int = THUMB_SIZE) -> bytes:
    """PNG bytes of the image at ``path`` fitted in ``size``×``size``; a placeholder if unusable."""
    if not path:
        return placeholder("no image", size)
    try:
        stat = os.stat(path)
    except OSError:
        return placeholder("missing", size)
    return _thumbnail(path, stat.st_mtime_ns, stat.st_size, size)


@lru_cache(maxsize=8192)
def _thumbnail(path: str, mtime_ns: int, file_size: int, size: int) -> bytes:
    try:
        with Image.open(path) as img:
            img.load()
            img = img.convert("RGB")
            # small scans (8x8 digits) are upscaled with hard edges, large photos downscaled smoothly
            resample = Image.NEAREST if max(img.size) < size // 2 else Image.LANCZOS
            scale = size / max(img.size)
            new = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
            img = img.resize(new, resample)
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError):
        return placeholder("unreadable", size)
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def full_image(path: str | None, max_size: int = 512) -> bytes:
    """PNG bytes for the detail view: the image at up to ``max_size`` pixels."""
    return thumbnail(path, max_size)


@lru_cache(maxsize=16)
def placeholder(label: str, size: int = THUMB_SIZE) -> bytes:
    img = Image.new("RGB", (size, size), (235, 235, 235))
    draw = ImageDraw.Draw(img)
    draw.text((size // 2, size // 2), label, fill=(120, 120, 120), anchor="mm")
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()

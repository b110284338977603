"""Thumbnails: made once per image file (Pillow), kept in memory as PNG bytes.

The dataset holds each image's real path, checked to lie inside its images root when the file
was loaded. The check is made again each time an image is read: the file opened must be the file
at its own real path (no symbolic link in the way, none swapped in since), inside ``root`` when
one is given. Images above the pixel limit (:mod:`evaldash.limits`) are not decoded, JPEGs are
decoded at a reduced scale, and a file Pillow cannot decode shows a placeholder, never an error.
"""

from __future__ import annotations

import io
import os
import stat
import threading
from collections import OrderedDict
from functools import lru_cache

from PIL import Image, ImageDraw

from evaldash import limits

THUMB_SIZE = 128
NO_IMAGE, MISSING, REFUSED, TOO_LARGE, UNREADABLE = "no image", "missing", "refused", "too large", "unreadable image"
CACHE_ENTRIES = 8192


class _Refused(Exception):
    """The path no longer names the file that was checked at load time, or leaves ``root``."""


def thumbnail(path: str | None, size: int = THUMB_SIZE, root: str | None = None) -> bytes:
    """PNG bytes of the image at ``path`` fitted in ``size``×``size``; a placeholder if unusable.

    ``root``: the folder the image must lie in (the dataset's ``images_root``), checked now.
    """
    if not path:
        return placeholder(NO_IMAGE, size)
    try:
        fh = _open_checked(path, root)
    except _Refused:
        return placeholder(REFUSED, size)
    except (OSError, ValueError):  # ValueError: a NUL byte in the path
        return placeholder(MISSING, size)
    max_pixels = limits.current().image_pixels
    with fh:
        info = os.fstat(fh.fileno())
        key = (info.st_dev, info.st_ino, info.st_mtime_ns, info.st_size, size, max_pixels)
        return _CACHE.get(key, lambda: _thumbnail(fh, size, max_pixels))


def full_image(path: str | None, max_size: int = 512, root: str | None = None) -> bytes:
    """PNG bytes for the detail view: the image at up to ``max_size`` pixels."""
    return thumbnail(path, max_size, root)


def _open_checked(path: str, root: str | None):
    """The file at ``path``, opened, if it is a regular file at its own real path (inside ``root``)."""
    # O_NONBLOCK: a FIFO put in an image's place opens at once (and is refused below)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        real = os.path.realpath(path)
        if real != os.path.abspath(path):
            raise _Refused(path)  # a symbolic link on the way: the file may now be anywhere
        if root is not None:
            root_real = os.path.realpath(root)
            if os.path.commonpath([real, root_real]) != root_real:
                raise _Refused(path)
        opened, there = os.fstat(fd), os.stat(real)
        # the file opened is the one at the checked path (not one swapped in between)
        if (opened.st_dev, opened.st_ino) != (there.st_dev, there.st_ino) or not stat.S_ISREG(opened.st_mode):
            raise _Refused(path)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _thumbnail(fh, size: int, max_pixels: int) -> bytes:
    try:
        with Image.open(fh) as img:  # reads the header only
            width, height = img.size
            if width * height > max_pixels:
                return placeholder(TOO_LARGE, size)
            scale = size / max(width, height)
            new = (max(1, round(width * scale)), max(1, round(height * scale)))
            if scale < 1:
                img.draft("RGB", new)  # JPEG: decode at 1/2, 1/4 or 1/8 scale, no smaller than ``new``
            img.load()
            out = img if img.mode == "RGB" else img.convert("RGB")
            # small scans (8x8 digits) are upscaled with hard edges, large photos downscaled smoothly,
            # through whole-pixel reduction (``reduce``) first when much larger
            if max(width, height) < size // 2:
                out = out.resize(new, Image.NEAREST)
            else:
                out = out.resize(new, Image.LANCZOS, reducing_gap=3.0 if scale < 1 else None)
    except Image.DecompressionBombError:  # above Pillow's own limit (about 179 megapixels)
        return placeholder(TOO_LARGE, size)
    except Exception:  # noqa: BLE001 - a decoder may raise nearly anything on a damaged or hostile file
        return placeholder(UNREADABLE, size)
    buf = io.BytesIO()
    out.save(buf, format="PNG", optimize=False)
    return buf.getvalue()


class _Cache:
    """A thread-safe LRU of thumbnails, keyed by the file's identity and version and the size."""

    def __init__(self, entries: int):
        self.entries = entries
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key, make) -> bytes:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.entries:
                self._items.popitem(last=False)
        return value


_CACHE = _Cache(CACHE_ENTRIES)


@lru_cache(maxsize=32)
def placeholder(label: str, size: int = THUMB_SIZE) -> bytes:
    img = Image.new("RGB", (size, size), (235, 235, 235))
    draw = ImageDraw.Draw(img)
    draw.text((size // 2, size // 2), label, fill=(120, 120, 120), anchor="mm")
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()

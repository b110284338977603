"""Thumbnails: the images-root check made again at read time, the pixel limit, cheap decoding
of large images, and placeholders for files that are not images."""

from __future__ import annotations

import io
import os
import struct
import subprocess
import sys
import textwrap
import time
import zlib
from pathlib import Path

import pytest
from PIL import Image, ImageFile

import evaldash
from evaldash import images
from evaldash.images import full_image, placeholder, thumbnail

ROOT = Path(__file__).resolve().parents[1]


def png_bytes(size=(16, 16), colour=(200, 30, 60)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, format="PNG")
    return buf.getvalue()


def write_uniform_png(path: Path, width: int, height: int) -> Path:
    """A grey-scale PNG of ``width``×``height`` black pixels, written row by row: a few hundred KB
    on disk however large, without ever holding the pixels in memory."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    packer = zlib.compressobj(9)
    row = b"\x00" * (width + 1)  # filter byte 0, then the pixels
    parts = [packer.compress(row) for _ in range(height)]
    idat = b"".join(parts) + packer.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
    return path


def dataset_with_images(folder: Path) -> evaldash.Dataset:
    """Two samples whose images lie in ``folder``/imgs, loaded (and checked) as the app does."""
    (folder / "imgs").mkdir(parents=True)
    (folder / "imgs" / "a.png").write_bytes(png_bytes(colour=(10, 200, 10)))
    (folder / "imgs" / "b.png").write_bytes(png_bytes(colour=(10, 10, 200)))
    csv = folder / "predictions.csv"
    csv.write_text("id,label,prediction,image\na,x,x,imgs/a.png\nb,y,x,imgs/b.png\n")
    d = evaldash.load_predictions(csv)
    assert all(p is not None for p in d.image_paths) and not d.warnings
    return d


def decoded_colour(png: bytes) -> tuple[int, int, int]:
    with Image.open(io.BytesIO(png)) as img:
        return img.convert("RGB").getpixel((img.width // 2, 0))


# --- the images root, checked when the image is read -----------------------------------

@pytest.mark.parametrize("with_root", [True, False])
def test_an_image_swapped_for_a_link_after_loading_is_refused(tmp_path, with_root):
    d = dataset_with_images(tmp_path / "data")
    secret = tmp_path / "outside" / "secret.png"
    secret.parent.mkdir()
    secret.write_bytes(png_bytes(colour=(255, 0, 255)))
    root = d.images_root if with_root else None
    path = d.image_paths[0]
    assert decoded_colour(thumbnail(path, root=root)) == (10, 200, 10)  # shown (and cached) before

    os.remove(path)
    os.symlink(secret, path)
    assert thumbnail(path, root=root) == placeholder("refused")
    assert full_image(path, 256, root=root) == placeholder("refused", 256)
    assert thumbnail(str(secret)) != placeholder("refused")  # the file itself is a fine image


def test_a_folder_swapped_for_a_link_after_loading_is_refused(tmp_path):
    d = dataset_with_images(tmp_path / "data")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "b.png").write_bytes(png_bytes(colour=(255, 0, 255)))
    imgs = tmp_path / "data" / "imgs"
    imgs.rename(tmp_path / "data" / "moved")
    os.symlink(outside, imgs)
    assert thumbnail(d.image_paths[1], root=d.images_root) == placeholder("refused")


def test_an_image_outside_the_root_given_is_refused(tmp_path):
    d = dataset_with_images(tmp_path / "data")
    other = tmp_path / "other"
    other.mkdir()
    assert thumbnail(d.image_paths[0], root=str(other)) == placeholder("refused")
    assert decoded_colour(thumbnail(d.image_paths[0], root=d.images_root)) == (10, 200, 10)


def test_an_image_replaced_in_place_is_read_again(tmp_path):
    d = dataset_with_images(tmp_path / "data")
    path = d.image_paths[0]
    assert decoded_colour(thumbnail(path, root=d.images_root)) == (10, 200, 10)
    Path(path).with_name("new.png").write_bytes(png_bytes(colour=(250, 250, 0)))
    os.replace(Path(path).with_name("new.png"), path)  # a new file (inode) at the same place
    assert decoded_colour(thumbnail(path, root=d.images_root)) == (250, 250, 0)


def test_a_fifo_named_png_is_refused_without_waiting(tmp_path):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    start = time.monotonic()
    assert thumbnail(str(fifo)) == placeholder("refused")
    assert time.monotonic() - start < 2


# --- files that are not images, or too large ------------------------------------------------

def test_corrupt_files_and_non_images_show_unreadable_image(tmp_path):
    whole = png_bytes((64, 64))
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(whole[: len(whole) // 2])
    text = tmp_path / "notes.png"
    text.write_text("this is a text file, not a picture\n")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    for path in (truncated, text, empty):
        assert thumbnail(str(path)) == placeholder("unreadable image"), path.name
    assert thumbnail(str(tmp_path / "missing.png")) == placeholder("missing")
    assert thumbnail(str(tmp_path / "nul\x00.png")) == placeholder("missing")
    assert thumbnail(None) == placeholder("no image")


def test_an_image_above_the_pixel_limit_is_too_large(tmp_path, monkeypatch):
    path = tmp_path / "wide.png"
    path.write_bytes(png_bytes((300, 200)))
    assert thumbnail(str(path)) != placeholder("too large")
    monkeypatch.setenv("EVALDASH_MAX_IMAGE_MEGAPIXELS", "0.05")  # 50,000 pixels
    assert thumbnail(str(path)) == placeholder("too large")
    monkeypatch.setenv("EVALDASH_MAX_IMAGE_MEGAPIXELS", "0.06")
    assert thumbnail(str(path)) != placeholder("too large")


def test_a_huge_png_is_refused_quickly_with_bounded_memory(tmp_path):
    """13300×13300 pixels (177 megapixels, ~0.2 MB on disk): decoding it would take 177 MB as
    grey-scale and 530 MB more as RGB. Measured in a fresh interpreter: its peak RSS and time."""
    path = write_uniform_png(tmp_path / "huge.png", 13300, 13300)
    assert path.stat().st_size < 1_000_000
    script = textwrap.dedent(f"""
        import resource, time
        from evaldash.images import thumbnail, placeholder
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.perf_counter()
        for size in (128, 256, 128):
            assert thumbnail({str(path)!r}, size) == placeholder("too large", size)
        elapsed = time.perf_counter() - start
        print(before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, elapsed)
    """)
    env = {**os.environ, "PYTHONPATH": str(Path(images.__file__).resolve().parents[1])}  # this evaldash
    env.pop("EVALDASH_MAX_IMAGE_MEGAPIXELS", None)
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    before_kb, peak_kb, elapsed = out.stdout.split()
    grown_mb = (int(peak_kb) - int(before_kb)) / 1024
    print(f"huge PNG: 3 thumbnails refused in {float(elapsed) * 1000:.1f} ms, peak RSS grew by {grown_mb:.1f} MB "
          f"(peak {int(peak_kb) / 1024:.0f} MB)")
    assert grown_mb < 20
    assert float(elapsed) < 1.0


def test_a_large_jpeg_is_decoded_at_a_reduced_scale(tmp_path, monkeypatch):
    path = tmp_path / "photo.jpg"
    Image.new("RGB", (4000, 3000), (40, 120, 200)).save(path, quality=80)
    decoded = []
    load = ImageFile.ImageFile.load

    def spy(img):
        decoded.append(img.size)
        return load(img)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    png = thumbnail(str(path), 128)
    with Image.open(io.BytesIO(png)) as img:
        assert img.size == (128, 96)
    assert set(decoded) == {(500, 375)}  # 1/8 of each side, not 12 megapixels


"""Drilling down to the samples: real thumbnails of an upload, the details dialog, class links.

Expected values come from the core (``evaldash.evaluate``), never from what the app shows.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from urllib.parse import urljoin

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

import evaldash
from evaldash.error_analysis import filter_mask, gallery_rows
from evaldash.images import placeholder

pytestmark = pytest.mark.e2e

# --- an upload with images -----------------------------------------------------------

CLASSES = ["cat", "dog", "bird"]
# (true, predicted) of the 12 rows: a 3x3 confusion matrix with a 3-sample off-diagonal cell
PAIRS = [(0, 0), (0, 0), (0, 1), (0, 1), (0, 1), (1, 1), (1, 1), (1, 2), (2, 2), (2, 2), (2, 0), (2, 2)]


def colour(n: int) -> tuple[int, int, int]:
    """A distinct, clearly non-grey colour for sample ``n``."""
    return (255 - 20 * n, 30 + 17 * n, (90 * n) % 256)


def write_upload(folder: Path) -> tuple[Path, Path, dict[str, tuple[int, int, int]]]:
    """A predictions CSV with an ``image`` column and a zip of its PNGs: (csv, zip, id -> colour)."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["id,label,prediction," + ",".join(f"score_{c}" for c in CLASSES) + ",image"]
    colours = {}
    zip_path = folder / "images.zip"
    with zipfile.ZipFile(zip_path, "w") as archive:
        for n, (t, p) in enumerate(PAIRS):
            sid = f"s{n:02d}"
            top = 0.55 + 0.03 * n  # distinct confidences: one "most confident first" order
            scores = [(1 - top) / 2] * 3
            scores[p] = top
            lines.append(f"{sid},{CLASSES[t]},{CLASSES[p]}," + ",".join(f"{s:.4f}" for s in scores)
                         + f",imgs/{sid}.png")
            buf = io.BytesIO()
            Image.new("RGB", (16, 16), colour(n)).save(buf, format="PNG")
            archive.writestr(f"imgs/{sid}.png", buf.getvalue())
            colours[sid] = colour(n)
    csv = folder / "with_images.csv"
    csv.write_text("\n".join(lines) + "\n")
    return csv, zip_path, colours


def upload_with_images(dash, csv: Path, images: Path) -> None:
    """The sidebar's 'Open another file…': choose the predictions and the zip, press 'Open upload'."""
    dash.upload(csv, images)


def fetch_image(dash, img) -> bytes:
    """The bytes behind an ``<img>``, fetched as the browser would (same session cookies)."""
    src = img.get_attribute("src")
    assert src, "an image without a src"
    response = dash.page.request.get(urljoin(dash.page.url, src))
    assert response.ok, f"{src}: HTTP {response.status}"
    return response.body()


def pixels(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as img:
        return np.asarray(img.convert("RGB"), dtype=np.int16)


# Streamlit re-encodes an RGB PNG as JPEG for the browser, so colours may move by a unit or two
TOLERANCE = 4


def assert_not_placeholder(png: bytes, what: str) -> None:
    """The image is not one of evaldash.images.placeholder's grey squares (at the size served)."""
    px = pixels(png)
    for label in ("no image", "missing", "unreadable image", "refused", "too large"):
        if px.shape[0] == px.shape[1]:
            ph = pixels(placeholder(label, px.shape[0]))
            assert np.abs(px - ph).mean() > TOLERANCE, \
                f"{what}: a grey placeholder ({label!r} or alike) is shown, not the image"


def assert_solid(png: bytes, want: tuple[int, int, int], what: str) -> None:
    """The image is ``want`` all over (within JPEG rounding): that sample's picture, not another."""
    assert_not_placeholder(png, what)
    off = int(np.abs(pixels(png) - np.array(want)).max())
    assert off <= TOLERANCE, f"{what}: colours up to {off} away from {want}: not that sample's image"


def test_uploaded_images_are_shown_in_the_cell_gallery(dash, tmp_path):
    csv, zip_path, colours = write_upload(tmp_path / "upload")
    # the core's view of the same file, with the images extracted beside it
    core = tmp_path / "core"
    core.mkdir()
    (core / csv.name).write_bytes(csv.read_bytes())
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(core)
    ev = evaldash.evaluate(evaldash.load_predictions(core / csv.name))
    d = ev.dataset
    assert d.image_paths is not None and all(p is not None for p in d.image_paths)
    off = ev.confusion.copy()
    np.fill_diagonal(off, 0)
    i, j = np.unravel_index(int(np.argmax(off)), off.shape)
    i, j = int(i), int(j)
    count = int(ev.confusion[i, j])
    assert count >= 2
    want_ids = [str(x) for x in d.ids[ev.cell_samples(i, j)]]

    dash.open("/")
    upload_with_images(dash, csv, zip_path)
    expect(dash.sidebar).to_contain_text(f"{d.n:,} samples · {d.n_classes} classes")
    expect(dash.sidebar.locator('[data-testid="stAlert"]')).to_have_count(0)
    # every image was found: no "missing images" load warning
    expect(dash.sidebar.get_by_text(re.compile(r"load warning"))).to_have_count(0)

    dash.sidebar.get_by_role("link", name="Confusion matrix").click()
    dash.wait_idle()
    dash.click_cell(i, j)
    dash.wait_idle()

    gallery = dash.page.locator(".st-key-cell_gallery")
    expect(gallery.locator("h3")).to_have_text(f"True {d.classes[i]} → predicted {d.classes[j]}")
    expect(gallery.get_by_text(re.compile(rf"^\s*{count} images?\b"))).to_have_count(1)
    images = gallery.locator('[data-testid="stImage"]')
    expect(images).to_have_count(count)
    captions = gallery.locator('[data-testid="stImageCaption"]').all_inner_texts()
    shown_ids = [c.split(" · ")[0].strip() for c in captions]
    assert shown_ids == want_ids

    for sid, img in zip(shown_ids, gallery.locator('[data-testid="stImage"] img').all()):
        assert_solid(fetch_image(dash, img), colours[sid], f"thumbnail of {sid}")
    expect(dash.exceptions).to_have_count(0)


# --- the details dialog --------------------------------------------------------------

def test_details_dialog_of_first_mistake(dash, digits_ev):
    d = digits_ev.dataset
    rows, total = gallery_rows(digits_ev, "mistakes", np.ones(d.n, dtype=bool), 1)
    assert total > 0
    row = int(rows[0])

    dash.open("/errors")
    gallery = dash.page.locator(".st-key-error_gallery")
    expect(gallery.get_by_text(re.compile(rf"^\s*{total} images?\b"))).to_have_count(1)
    gallery.get_by_role("button", name="Details").first.click()
    dash.wait_idle()

    dialog = dash.page.locator('[data-testid="stDialog"]')
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Sample details")
    # the sample's facts (the findings history below is a second table once someone has tagged it)
    facts = dialog.locator('[class*="st-key-detail_facts_"] [data-testid="stDataFrame"]')
    for value in ("id", str(d.ids[row]), "true class", d.classes[d.y_true[row]],
                  "predicted class", d.classes[d.y_pred[row]], f"{digits_ev.confidence[row]:.4f}"):
        expect(facts).to_contain_text(value)

    # the scores as a table (no charting library to load: the dialog opens in under a second),
    # the highest first, the true and predicted classes marked
    scores = dialog.locator('[class*="st-key-detail_scores_"] [data-testid="stDataFrame"]')
    top = int(np.argmax(d.scores[row]))
    expect(scores).to_contain_text(f"{d.scores[row][top]:.4f}")
    expect(scores).to_contain_text("predicted")
    expect(scores).to_contain_text("true")

    # the sample's picture, not a placeholder
    assert_not_placeholder(fetch_image(dash, dialog.locator('[data-testid="stImage"] img').first),
                           f"detail image of {d.ids[row]}")
    expect(dash.exceptions).to_have_count(0)


# --- overview: a class's links -------------------------------------------------------

ROW_HEIGHT = 35  # Streamlit's dataframe rows and header, in CSS pixels
ROW_MARKER = 32  # glide-data-grid's row-marker (checkbox) column for up to 100 rows


def select_table_row(dash, key: str, row: int) -> None:
    """Tick the selection checkbox of ``row`` (0-based, unsorted) in the dataframe with ``key``."""
    grid = dash.page.locator(f".st-key-{key} [data-testid='stDataFrameResizable']")
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    x = box["x"] + ROW_MARKER / 2
    y = box["y"] + ROW_HEIGHT * (row + 1) + ROW_HEIGHT / 2
    dash.page.mouse.move(x, y)  # the checkbox shows on hover
    dash.page.wait_for_timeout(150)
    dash.page.mouse.click(x, y)
    dash.wait_idle()


def test_class_row_links_to_its_mistakes(dash, digits_ev):
    d = digits_ev.dataset
    wrong = ~digits_ev.correct
    # a class with mistakes, well below the first row so a wrong row index would show
    c = next(k for k in range(d.n_classes - 1, -1, -1) if wrong[d.y_true == k].any())
    name = d.classes[c]
    _, total = gallery_rows(digits_ev, "mistakes", filter_mask(d, [c]), 1)
    assert total == int((wrong & (d.y_true == c)).sum()) > 0

    dash.open("/")
    select_table_row(dash, "class_table", c)
    expect(dash.page.get_by_text(re.compile(rf"^Class {re.escape(name)}: precision"))).to_be_visible()
    dash.page.get_by_role("link", name="Its mistakes").click()
    dash.wait_idle()

    expect(dash.page.locator("h1")).to_have_text("Error analysis")
    assert dash.path == "/errors"
    assert dash.query.get("true") == name
    assert dash.query.get("gallery") == "mistakes"
    # the filter is shown set to that class, so a person sees why the gallery is smaller
    expect(dash.page.locator(".st-key-err_true")).to_contain_text(name)
    gallery = dash.page.locator(".st-key-error_gallery")
    expect(gallery.get_by_text(re.compile(r"^\s*\d+ images?\b"))).to_have_text(
        re.compile(rf"^\s*{total} images?\b"))
    captions = gallery.locator('[data-testid="stImageCaption"]').all_inner_texts()
    assert captions and all(f"true {name} → " in cap for cap in captions)
    expect(dash.exceptions).to_have_count(0)

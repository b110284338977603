"""Images where users keep them, at 1024×768: a file in ``outputs/`` whose paths lead to
``../images`` says on /errors why no image shows and how to fix it; the open panel's Images root
then shows them; an upload whose zip has its images at the top shows them, matched by file name.

Expected images come from the core (``evaldash.images.thumbnail`` of the sample's own file).
"""

from __future__ import annotations

import io
import re
import shutil
import zipfile
from pathlib import Path
from urllib.parse import urljoin

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from playwright.sync_api import expect

from dashboard import DIGITS_CSV, Dashboard, StreamlitServer
from evaldash.images import placeholder, thumbnail

pytestmark = pytest.mark.e2e

LAPTOP = {"width": 1024, "height": 768}
TOLERANCE = 4  # Streamlit may re-encode a PNG as JPEG: colours move by a unit or two
FIRST = '.st-key-error_gallery [data-testid="stImage"] img'


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """The digits sample as a project keeps it: outputs/predictions.csv, images/ beside outputs/."""
    proj = tmp_path_factory.mktemp("proj")
    shutil.copytree(DIGITS_CSV.parent / "images", proj / "images")
    (proj / "outputs").mkdir()
    frame = pd.read_csv(DIGITS_CSV, dtype=str)
    frame["image"] = "../" + frame["image"]
    frame.to_csv(proj / "outputs" / "predictions.csv", index=False)
    return proj


@pytest.fixture(scope="module")
def outputs_server(tmp_path_factory, upload_dir, project):
    log = tmp_path_factory.mktemp("server") / "outputs.log"
    server = StreamlitServer([str(project / "outputs" / "predictions.csv"), "--data-root", str(project)],
                             log, upload_dir)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


@pytest.fixture
def laptop(browser, outputs_server):
    context = browser.new_context(viewport=LAPTOP)
    context.set_default_timeout(30_000)
    yield Dashboard(context.new_page(), outputs_server.url)
    context.close()


def pixels(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as img:
        return np.asarray(img.convert("RGB"), dtype=np.int16)


def first_thumbnail(dash: Dashboard) -> tuple[str, np.ndarray]:
    """The id in the first thumbnail's caption, and the pixels the browser got for it."""
    img = dash.page.locator(FIRST).first
    expect(img).to_be_visible()
    caption = dash.page.locator('.st-key-error_gallery [data-testid="stImageCaption"]').first.inner_text()
    response = dash.page.request.get(urljoin(dash.page.url, img.get_attribute("src")))
    assert response.ok
    return caption.split(" · ")[0].strip(), pixels(response.body())


def same_image(shown: np.ndarray, png: bytes) -> bool:
    want = pixels(png)
    return shown.shape == want.shape and float(np.abs(shown - want).mean()) <= TOLERANCE


def expect_sample_image(dash: Dashboard, folder: Path) -> None:
    """The first thumbnail of /errors is its sample's own image, not a placeholder."""
    sid, shown = first_thumbnail(dash)
    assert not same_image(shown, placeholder("refused")) and not same_image(shown, placeholder("missing"))
    assert same_image(shown, thumbnail(str(folder / f"{sid}.png"))), f"{sid}: not that sample's image"


def test_images_outside_the_root_say_how_to_fix_it_and_the_images_root_shows_them(laptop, project):
    n = len(pd.read_csv(DIGITS_CSV))
    dash = laptop.open("/errors")
    notice = dash.page.locator('[data-testid="stMain"] [data-testid="stAlert"]').filter(has_text="No image for")
    expect(notice).to_have_count(1)
    expect(notice).to_contain_text(f"No image for {n} of {n} samples")
    expect(notice).to_contain_text(f"set the images root to {project / 'images'}: Images root under Open "
                                   "another file… in the sidebar, or --images-root DIR.")
    assert notice.bounding_box()["width"] <= LAPTOP["width"]
    _, shown = first_thumbnail(dash)
    assert same_image(shown, placeholder("refused"))  # what a user sees before the fix

    dash.sidebar.get_by_role("button", name="Open another file…").click()
    field = dash.sidebar.locator(".st-key-images_root_input input")
    field.fill(str(project / "images"))
    field.press("Enter")
    dash.wait_idle()
    dash.sidebar.locator(".st-key-open_path button").click()
    dash.wait_idle()

    expect(dash.page.locator("h1")).to_have_text("Error analysis")
    expect(notice).to_have_count(0)
    expect_sample_image(dash, project / "images")
    expect(dash.exceptions).to_have_count(0)


def test_an_upload_with_images_at_the_top_of_its_zip_shows_them_matched_by_file_name(laptop, tmp_path):
    rows = pd.read_csv(DIGITS_CSV, dtype=str).head(60)  # image paths: images/dNNNN.png
    csv = tmp_path / "subset.csv"
    rows.to_csv(csv, index=False)
    zip_path = tmp_path / "pictures.zip"
    with zipfile.ZipFile(zip_path, "w") as archive:
        for image in rows["image"]:
            archive.write(DIGITS_CSV.parent / image, Path(image).name)  # at the top, no images/ folder

    dash = laptop.open("/errors")
    dash.upload(csv, zip_path)
    matched = f"Matched {len(rows)} of {len(rows)} images by file name in the zip."
    expect(dash.sidebar.locator('[data-testid="stAlert"]').filter(has_text=matched)).to_have_count(1)
    expect(dash.page.locator('[data-testid="stMain"]').get_by_text(matched)).to_have_count(1)
    expect(dash.page.locator('[data-testid="stMain"] [data-testid="stAlert"]').filter(
        has_text=re.compile("No image for"))).to_have_count(0)
    expect_sample_image(dash, DIGITS_CSV.parent / "images")
    expect(dash.exceptions).to_have_count(0)

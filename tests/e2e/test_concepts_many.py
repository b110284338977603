"""/confusion on a multi-label file of 60 concepts in headless Chromium: the first view draws the 20
most confused concepts with "(no label)" / "(no prediction)", and a click on a cell of that reduced
grid shows exactly that cell's samples (the grid's row and column map back to the concepts)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

from dashboard import Dashboard, StreamlitServer
from evaldash import multilabel_metrics as mm
from evaldash.tasks import evaluate_dataset, load_dataset

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from test_concept_matrix_many import K, write_many  # noqa: E402

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def many_file(tmp_path_factory) -> Path:
    return write_many(tmp_path_factory.mktemp("many") / "many.csv")


@pytest.fixture(scope="module")
def many_server(tmp_path_factory, upload_dir, many_file):
    server = StreamlitServer([str(many_file)], tmp_path_factory.mktemp("server") / "many.log", upload_dir)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def test_a_click_in_the_most_confused_concepts_grid_shows_that_cells_samples(page, many_server, many_file):
    ev = evaluate_dataset(load_dataset(many_file))
    errors = mm.concept_error_counts(ev.concept_counts)
    top = sorted(sorted(range(K), key=lambda i: (-errors[i], i))[:20])
    dash = Dashboard(page, many_server.url)
    dash.open("/confusion")
    expect(page.locator(".st-key-confusion_matrix .cm-cell")).to_have_count(21 * 21)
    i, j = max(((a, b) for a in top for b in top if a != b), key=lambda c: len(ev.cell_samples(*c)))
    name_i, name_j = ev.classes[i], ev.classes[j]
    cell = page.get_by_role("button", name=re.compile(rf"^true {name_i}, predicted {name_j}: "))
    expect(cell).to_have_count(1)
    cell.click()
    dash.wait_idle()
    expect(page.locator(".st-key-cell_gallery h3")).to_have_text(f"True {name_i} → predicted {name_j}")
    n = len(ev.cell_samples(i, j))
    assert n > 0
    expect(page.locator(".st-key-cell_gallery [data-testid='stCaptionContainer']").filter(
        has_text=re.compile(r"^\s*\d+ images?\b"))).to_have_text(re.compile(rf"^\s*{n} images?\b"))
    expect(dash.exceptions).to_have_count(0)

"""The dashboard on the DuckDB engine over a partitioned Parquet folder (``serve FOLDER --engine duckdb``):
a matrix cell's gallery, the live threshold moved with the keys, and a tag saved from Details.

Expected values come from the core's memory path on the same rows (the folder's files joined)."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import expect

import evaldash
from dashboard import PAGE_SIZE, Dashboard, StreamlitServer, expect_metrics_at

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from engine_cases import multiclass_ties, write  # noqa: E402

pytestmark = pytest.mark.e2e

SHOTS = Path(os.environ.get("EVALDASH_ENGINE_SHOTS", "/work/wt/engine-app-shots"))


@pytest.fixture(scope="module")
def engine_files(tmp_path_factory) -> tuple[Path, Path]:
    """(a folder of four Parquet files, one file of the same rows for the memory path)."""
    folder = tmp_path_factory.mktemp("engine") / "predictions"
    frame = multiclass_ties(n=4000, seed=21)
    write(frame, folder, parts=4)
    joined = folder.parent / "joined.parquet"
    pd.concat([pd.read_parquet(f) for f in sorted(folder.glob("*.parquet"))], ignore_index=True).to_parquet(joined)
    return folder, joined


@pytest.fixture(scope="module")
def engine_server(tmp_path_factory, upload_dir, engine_files):
    log = tmp_path_factory.mktemp("server") / "engine.log"
    server = StreamlitServer([str(engine_files[0]), "--engine", "duckdb"], log, upload_dir)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def memory_ev(engine_files):
    return evaldash.evaluate(evaldash.load_predictions(engine_files[1]))


@pytest.fixture
def engine_dash(page, engine_server) -> Dashboard:
    return Dashboard(page, engine_server.url)


def _shot(dash, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    dash.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)


def test_overview_matrix_cell_threshold_and_a_tag_on_duckdb(engine_dash, memory_ev, engine_server, engine_files):
    dash, ev = engine_dash, memory_ev
    d = ev.dataset
    dash.page.set_viewport_size({"width": 1024, "height": 768})
    dash.open("/")
    expect(dash.sidebar.get_by_text("Engine: duckdb", exact=False)).to_be_visible()
    expect(dash.page.get_by_text("ROC AUC ± is not computed by the dashboard on the duckdb engine")).to_be_visible()
    expect(dash.page.get_by_text(re.compile(r"Accuracy [0-9.]+ ± [0-9.]+, macro F1"))).to_be_visible()
    expect(dash.exceptions).to_have_count(0)
    _shot(dash, "overview")

    # a matrix cell: its gallery lists the core's samples of that cell, most confident first
    dash.open("/confusion")
    i, j = 0, 2
    cell = dash.page.get_by_role("button", name=re.compile(rf"^true {d.classes[i]}, predicted {d.classes[j]}: "))
    cell.scroll_into_view_if_needed()
    cell.click()
    dash.wait_idle()
    gallery = dash.page.locator(".st-key-cell_gallery")
    count = int(ev.confusion[i, j])
    expect(gallery.locator("h3")).to_have_text(f"True {d.classes[i]} → predicted {d.classes[j]}")
    expect(gallery.get_by_text(re.compile(rf"^\s*{count} images\b"))).to_have_count(1)
    rows = [int(r) for r in ev.cell_samples(i, j)[:PAGE_SIZE]]
    captions = gallery.locator('[data-testid="stImageCaption"]').all_inner_texts()
    assert [c.split(" · ")[0].strip() for c in captions] == [str(d.ids[r]) for r in rows]
    _shot(dash, "confusion_cell")

    # Details of the first sample: a tag saved, keyed by the sample's id
    name = dash.sidebar.locator(".st-key-annotator input")
    name.fill("Eve (engine e2e)")
    name.press("Enter")
    dash.wait_idle()
    row = rows[0]
    gallery.locator(f".st-key-cell_detail_{row} button").click()
    dialog = dash.page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(str(d.ids[row]))
    box = dialog.locator(f".st-key-findings_new_tag_{row} input")
    box.click()
    box.press_sequentially("engine tag")
    box.press("Enter")
    expect(dialog.get_by_text("Saved 1 change.")).to_be_visible()
    _shot(dash, "details")
    dash.page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    dash.wait_idle()
    from evaldash.annotations import AnnotationStore
    from evaldash.engines import evaluate_file, open_engine

    engine = open_engine("duckdb")
    try:
        fingerprint = evaluate_file(engine, str(engine_files[0])).dataset.fingerprint()
    finally:
        engine.close()
    state = AnnotationStore(str(engine_server.log_path.with_suffix(".annotations.db"))).state(fingerprint)
    assert "engine tag" in state.loc[str(d.ids[row]), "tags"]
    assert state.loc[str(d.ids[row]), "annotator"] == "Eve (engine e2e)"

    # the threshold, moved with the arrow keys: the counts and rates are the core's at every step
    c = 1
    sweep = ev.sweep(c)
    dash.open(f"/threshold?class={d.classes[c]}&t=0.3")
    expect_metrics_at(dash, sweep, dash.threshold_value())
    seen = []
    for key, times in (("ArrowRight", 5), ("ArrowLeft", 2), ("PageUp", 1)):
        for _ in range(times):
            dash.press_on_slider(key)
            t = dash.threshold_value()
            expect_metrics_at(dash, sweep, t)
            seen.append(t)
    assert len(set(seen)) > 4
    _shot(dash, "threshold")
    expect(dash.exceptions).to_have_count(0)


@pytest.mark.parametrize("path, line", [
    ("/errors", "The suspected label errors (cleanlab) are not available on the duckdb engine"),
    ("/calibration", None),
    ("/slices", None),  # the table, and a slice on every page, from the engine
])
def test_the_other_pages_on_duckdb_work_or_say_so_in_one_line(engine_dash, path, line):
    dash = engine_dash
    dash.page.set_viewport_size({"width": 1024, "height": 768})
    dash.open(path)
    if line is not None:
        expect(dash.page.get_by_text(line)).to_be_visible()
        expect(dash.page.get_by_role("button", name="Open its 4,000 rows in memory")).to_be_visible()
    expect(dash.exceptions).to_have_count(0)
    _shot(dash, path.strip("/"))

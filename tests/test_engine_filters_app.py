"""The dashboard on an engine (DuckDB) shows a slice on every page, galleries within tags, a tag's
review set and the corrected labels, computed in the engine, equal to the memory path and without
the sample line (:mod:`evaldash.ui.engine_views`, :mod:`evaldash.engines.id_sets`)."""

from __future__ import annotations

import numpy as np
from streamlit.testing.v1 import AppTest

from test_engine_app import APP, TIMEOUT, captions, folder, joined, memory_core, on_duckdb, open_page  # noqa: F401

SAMPLE_LINE = "not available on the duckdb engine"


def cards(at) -> dict:
    return {m.label: m.value for m in at.metric}


def gallery_ids(block) -> list[str]:
    return [img.captions[0].split(" · ")[0] for img in block.image]


def test_a_slice_shows_on_every_page_from_the_engine(on_duckdb, joined):
    from evaldash.dataset import subset
    from evaldash.evaluation import evaluate
    from evaldash.slices import slice_rows

    d = memory_core(joined).dataset
    sliced = evaluate(subset(d, slice_rows(d, "site", "north")))
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params["slice_by"] = "site"
    at.query_params["slice"] = "north"
    at.run()
    assert not at.exception, at.exception
    assert f"{sliced.dataset.n:,} samples · 4 classes" in captions(at, at.sidebar)
    assert cards(at)["Accuracy"] == f"{sliced.accuracy:.3f}"
    # the sample button draws from the whole file, and says so beside the slice's count
    assert [b.label for b in at.button if b.key == "engine_sample"] == [
        "Open the file's 1,500 rows in memory (the view applies to them)"]
    at.switch_page("pages/confusion.py").run()
    assert not at.exception, at.exception
    from test_app import live_payload

    assert live_payload(at, "confusion_matrix")["counts"] == sliced.confusion.tolist()
    at.switch_page("pages/slices.py").run()
    assert not at.exception, at.exception
    assert SAMPLE_LINE not in captions(at) and "Select a row to show only that slice" in captions(at)
    assert "Every page now shows only" in at.success[0].value


def test_tags_filter_the_galleries_and_make_a_review_set_on_the_engine(on_duckdb, joined):
    from evaldash.annotations import AnnotationStore
    from evaldash.error_analysis import filter_mask, gallery_rows
    from evaldash.ui.findings_store import fingerprint
    from evaldash.ui.sources import load, start_source

    core = memory_core(joined)
    d = core.dataset
    at = open_page("pages/errors.py")
    tagged = np.arange(0, d.n, 4)
    store = AnnotationStore(None)
    store.record_many([{"dataset": fingerprint(load(start_source())), "sample_id": str(d.ids[r]), "annotator": "a",
                        "kind": "tag", "value": "blurry", "created_at": None} for r in tagged])
    mask = np.zeros(d.n, dtype=bool)
    mask[tagged] = True
    at.run()
    at.multiselect(key="err_tags").set_value(["blurry"]).run()
    assert not at.exception, at.exception
    assert SAMPLE_LINE in captions(at) and "tag filter" not in captions(at)  # the line names cleanlab only
    rows, total = gallery_rows(core, "mistakes", filter_mask(d, [], [], {}) & mask, 24)
    gallery = at.get_by_key("error_gallery")
    assert gallery.caption[0].value == f"{total} images"
    assert gallery_ids(gallery) == [str(d.ids[r]) for r in rows[:24]]

    i, j = 1, 0
    cell = core.cell_samples(i, j)
    want = cell[mask[cell]]
    at.query_params["true"], at.query_params["pred"] = d.classes[i], d.classes[j]
    at.switch_page("pages/confusion.py").run()
    at.multiselect(key="cell_tags").set_value(["blurry"]).run()
    assert not at.exception, at.exception
    block = at.get_by_key("cell_gallery")
    assert f"{len(want)} images tagged blurry" in captions(at, block) and SAMPLE_LINE not in captions(at)
    assert gallery_ids(block) == [str(d.ids[r]) for r in want[:24]]

    at.switch_page("pages/review.py").run()
    at.segmented_control(key="review_set").set_value("tagged").run()
    assert not at.exception, at.exception
    progress = at.get_by_key("review_progress").get("progress")[0].proto.text
    assert f"0 / {len(tagged)} reviewed" in progress
    assert at.subheader[0].value.startswith(f"{d.ids[tagged[0]]}:")  # file order
    listed = [str(d.ids[r]) for r in (7, 3, 900, 11)] + ["not an id"]  # reviewed in the list's order
    at.segmented_control(key="review_set").set_value("ids").run()
    at.file_uploader(key="review_ids").set_value(("ids.txt", "\n".join(listed).encode(), "text/plain")).run()
    assert not at.exception, at.exception
    assert "ids.txt: 1 of the 5 ids are not in this file; they are left out." in at.warning[0].value.replace("\\", "")
    assert "0 / 4 reviewed" in at.get_by_key("review_progress").get("progress")[0].proto.text
    assert at.subheader[0].value.startswith(f"{listed[0]}:")
    at.text_input(key="annotator").set_value("ann").run()
    at.button(key="review_next").click().run()
    assert at.subheader[0].value.startswith(f"{listed[1]}:")
    assert "1 / 4 reviewed" in at.get_by_key("review_progress").get("progress")[0].proto.text


def test_corrected_labels_on_the_engine_are_the_memory_path_ones(on_duckdb, joined):
    from evaldash.annotations import AnnotationStore
    from evaldash.evaluation import evaluate, with_corrected_labels
    from evaldash.ui.findings_store import fingerprint
    from evaldash.ui.sources import load, start_source

    core = memory_core(joined)
    d = core.dataset
    at = open_page()
    switch = at.toggle(key="use_corrected")
    assert not switch.disabled and SAMPLE_LINE not in (switch.help or "")
    wrong = np.flatnonzero(d.y_true != d.y_pred)[:40]
    corrections = {str(d.ids[r]): d.classes[int(d.y_pred[r])] for r in wrong}
    store = AnnotationStore(None)
    fp = fingerprint(load(start_source()))
    for sid, label in corrections.items():
        store.record(fp, sid, "ann", "label", label)
    switch.set_value(True).run()
    assert not at.exception, at.exception
    fixed, info = with_corrected_labels(d, corrections)
    assert info["mistakes_were_label_errors"] == 40
    assert cards(at)["Accuracy"] == f"{evaluate(fixed).accuracy:.3f}" != f"{core.accuracy:.3f}"
    assert "40 labels corrected; 40 former mistakes were label errors" in captions(at, at.sidebar)
    at.toggle(key="use_corrected").set_value(False).run()
    assert cards(at)["Accuracy"] == f"{core.accuracy:.3f}"


def test_an_engine_failure_computing_a_slice_is_one_line_and_the_whole_file_is_shown(on_duckdb, monkeypatch):
    import duckdb

    from evaldash.engines import derived

    def failed(*args, **kwargs):
        raise duckdb.OutOfMemoryException("Out of Memory Error: could not allocate block")
    monkeypatch.setattr(derived, "slice_evaluation", failed)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params["slice_by"] = "site"
    at.query_params["slice"] = "north"
    at.run()
    assert not at.exception, at.exception
    assert "slice site = north: the duckdb engine failed: Out of Memory Error" in at.error[0].value.replace("\\", "")
    assert "1,500 samples · 4 classes" in captions(at, at.sidebar)


def test_a_view_no_longer_kept_or_replaced_leaves_the_disk_and_the_files_table_stays(on_duckdb, joined, monkeypatch):
    import os
    import time

    from engine_cases import status_recorder
    from evaldash.engines import cells
    from evaldash.engines.evaluation import EngineEvaluation
    from evaldash.ui import engine_sources, engine_views
    from evaldash.ui.sources import load, start_source

    def gone(path: str) -> bool:
        deadline = time.monotonic() + 30  # dropped in a thread of its own
        while os.path.exists(path) and time.monotonic() < deadline:
            time.sleep(0.05)
        return not os.path.exists(path)

    monkeypatch.setattr(engine_views, "MAX_VIEWS", 3)
    # each view's first numbers are not the point here: only its cell table is built
    monkeypatch.setattr(EngineEvaluation, "precompute", lambda self, background=False, progress=None: (
        cells.start(self, background), self)[1])
    monkeypatch.setattr(engine_sources.st, "empty", status_recorder([]))
    d = memory_core(joined).dataset
    base = load(start_source())
    root = cells.build(base)  # the file's table (the opening sorts it in the background)
    north = engine_views.engine_slice(base, "site", "north")
    south = engine_views.engine_slice(base, "site", "south")
    first, _ = engine_views.engine_corrected(base, {str(d.ids[0]): d.classes[1]})
    tables = {name: cells.build(e) for name, e in [("north", north), ("south", south), ("first", first)]}
    assert all(os.path.exists(t.path) for t in [root, *tables.values()])
    # newer corrections: their view replaces the first's (not kept: nobody asks for it again)
    engine_views.engine_corrected(base, {str(d.ids[0]): d.classes[2]})
    assert gone(tables["first"].path)
    assert all(os.path.exists(t.path) for t in [root, tables["north"], tables["south"]])
    # corrections that change no known class keep the file's evaluation: its table stays when they go
    same, _ = engine_views.engine_corrected(base, {str(d.ids[0]): "no such class"})
    assert same is base
    east = engine_views.engine_slice(base, "site", "east")  # a fourth view: the oldest (north) goes
    assert gone(tables["north"].path) and os.path.exists(tables["south"].path)
    east_table = cells.build(east)
    monkeypatch.setattr(engine_views, "MAX_VIEWS", 1)
    engine_views.engine_slice(base, "site", "north")  # south, the file's own entry and east go
    assert gone(tables["south"].path) and gone(east_table.path)
    assert os.path.exists(root.path) and base._memo["cell table"] is root and not root.dropped

"""Annotators record findings from a gallery; they are saved in the database and still there after a reload."""

import os

import pytest
from playwright.sync_api import expect

from evaldash.annotations import AnnotationStore

pytestmark = pytest.mark.e2e


def _db_of(server) -> str:
    return str(server.log_path.with_suffix(".annotations.db"))


def _tag_in_dialog(dash, row: int, tags: list[str], note: str = "") -> None:
    """Open a thumbnail's Details and type each tag into New tag, Enter at once (Enter saves it)."""
    dash.page.locator(f".st-key-cell_detail_{row} button").click()
    dialog = dash.page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    chips = dialog.locator(f".st-key-findings_tags_{row}")
    for tag in tags:
        box = dialog.locator(f".st-key-findings_new_tag_{row} input")
        box.click()
        box.press_sequentially(tag)
        box.press("Enter")
        expect(dialog.get_by_text("Saved 1 change.")).to_be_visible()
        expect(chips).to_contain_text(tag)  # the list shows it; the field is empty again
        expect(box).to_have_value("")
    if note:
        dialog.locator(f".st-key-findings_note_{row} textarea").fill(note)
        dialog.locator(f".st-key-findings_save_{row} button").click()
        expect(dialog.get_by_text("Saved 1 change.")).to_be_visible()
    dash.page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    dash.wait_idle()


def test_tag_two_samples_from_a_cell_gallery_and_reload(dash, digits_ev, app_server):
    d = digits_ev.dataset
    one, eight = d.classes.index("1"), d.classes.index("8")
    rows = [int(r) for r in digits_ev.cell_samples(one, eight)[:2]]
    dash.open("/confusion?true=1&pred=8")
    name = dash.sidebar.locator(".st-key-annotator input")
    name.fill("Ana (e2e)")
    name.press("Enter")
    dash.wait_idle()

    _tag_in_dialog(dash, rows[0], ["label error"], note="the stroke looks like an 8")
    _tag_in_dialog(dash, rows[1], ["smudge e2e", "ambiguous"])

    dash.page.reload()
    dash.page.locator("h1").first.wait_for()
    dash.wait_idle()
    shown = dash.page.locator(".st-key-cell_gallery [data-testid='stImageCaption']")
    expect(shown.nth(1)).to_be_visible()  # the gallery drawn again after the reload
    captions = shown.all_inner_texts()
    assert "tags: label error" in captions[0] and " · note" in captions[0], captions[0]
    assert "tags: ambiguous, smudge e2e" in captions[1], captions[1]

    # the database has them, with the annotator, keyed by this file's fingerprint
    state = AnnotationStore(_db_of(app_server)).state(d.fingerprint())
    first, second = str(d.ids[rows[0]]), str(d.ids[rows[1]])
    assert "label error" in state.loc[first, "tags"] and state.loc[first, "note"] == "the stroke looks like an 8"
    assert {"ambiguous", "smudge e2e"} <= set(state.loc[second, "tags"])
    assert state.loc[second, "annotator"] == "Ana (e2e)"

    # the details of a tagged sample show its tags and history
    dash.page.locator(f".st-key-cell_detail_{rows[1]} button").click()
    dialog = dash.page.get_by_role("dialog")
    expect(dialog.locator(f".st-key-findings_tags_{rows[1]}")).to_contain_text("smudge e2e")
    expect(dialog.get_by_text("History (")).to_be_visible()
    expect(dash.exceptions).to_have_count(0)
    assert os.path.exists(_db_of(app_server))


def test_export_findings_and_switch_to_corrected_labels(dash, digits_ev, app_server):
    import numpy as np
    import pandas as pd
    from sklearn.metrics import accuracy_score

    d = digits_ev.dataset
    store = AnnotationStore(_db_of(app_server))
    fp = d.fingerprint()
    wrong = np.flatnonzero(d.y_true != d.y_pred)
    # correct the labels of the 6 most confident mistakes to what the model predicted
    rows = wrong[np.argsort(-digits_ev.confidence[wrong], kind="stable")][:6]
    for r in rows:
        store.record(fp, str(d.ids[r]), "e2e", "label", d.classes[d.y_pred[r]])
    store.record(fp, str(d.ids[rows[0]]), "e2e", "note", "=cmd|' /C calc'!A0")

    dash.open("/")
    dash.sidebar.get_by_text("Export findings").click()
    dash.sidebar.locator(".st-key-export_prepare button").click()
    dash.wait_idle()
    with dash.page.expect_download() as download:
        dash.sidebar.locator(".st-key-export_csv button").click()
    assert download.value.suggested_filename == "digits-10-classes.annotations.csv"  # a clean slug of the run
    table = pd.read_csv(download.value.path(), dtype=str, keep_default_na=False)
    mine = table.set_index("sample_id").loc[[str(d.ids[r]) for r in rows]]
    assert list(mine["corrected_label"]) == [d.classes[d.y_pred[r]] for r in rows]
    assert mine.iloc[0]["note"] == "'=cmd|' /C calc'!A0"  # a formula is neutralised
    with dash.page.expect_download() as download:
        dash.sidebar.locator(".st-key-export_predictions button").click()
    fixed = pd.read_csv(download.value.path(), dtype=str, keep_default_na=False)
    assert len(fixed) == d.n and (fixed["label_corrected"] != fixed["label"]).sum() >= 6

    # every correction in the database, also those other tests made, as the core applies them
    state = store.state(fp)
    corrections = {k: v for k, v in state["corrected_label"].items() if v}
    y = np.array([d.classes.index(corrections.get(str(i), d.classes[t])) for i, t in zip(d.ids, d.y_true)])
    before = dash.metric("Accuracy").inner_text()
    dash.sidebar.locator(".st-key-use_corrected label").click()
    dash.wait_idle()
    expect(dash.metric("Accuracy")).to_have_text(f"{accuracy_score(y, d.y_pred):.3f}")
    assert dash.metric("Accuracy").inner_text() != before
    expect(dash.page.get_by_text("of the model's former mistakes were label errors")).to_be_visible()

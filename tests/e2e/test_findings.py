"""Annotators record findings from a gallery; they are saved in the database and still there after a reload."""

import os

import pytest
from playwright.sync_api import expect

from evaldash.annotations import AnnotationStore

pytestmark = pytest.mark.e2e


def _db_of(server) -> str:
    return str(server.log_path.with_suffix(".annotations.db"))


def _tag_in_dialog(dash, row: int, tags: list[str], note: str = "") -> None:
    dash.page.locator(f".st-key-cell_detail_{row} button").click()
    dialog = dash.page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    box = dialog.locator(f".st-key-findings_tags_{row} input")
    for tag in tags:
        box.click()
        box.fill(tag)
        box.press("Enter")
    if note:
        dialog.locator(f".st-key-findings_note_{row} textarea").fill(note)
    dialog.locator(f".st-key-findings_save_{row} button").click()
    expect(dialog.get_by_text("Saved")).to_be_visible()
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
    captions = dash.page.locator(".st-key-cell_gallery [data-testid='stImageCaption']").all_inner_texts()
    assert "🏷 label error" in captions[0] and "📝" in captions[0], captions[0]
    assert "🏷 ambiguous, smudge e2e" in captions[1], captions[1]

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

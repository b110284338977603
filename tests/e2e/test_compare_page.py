"""Two models in one session: /compare shows the core's deltas, the samples B fixed and broke, and a
click on the difference matrix shows the samples that moved."""

import re

import numpy as np
import pytest
from playwright.sync_api import expect

import evaldash
from dashboard import DIGITS_CSV
from evaldash.compare import compare

pytestmark = pytest.mark.e2e


def test_compare_two_sample_models(compare_dash):
    a = evaldash.evaluate(evaldash.load_predictions(DIGITS_CSV))
    b = evaldash.evaluate(evaldash.load_predictions(DIGITS_CSV.parent / "predictions_weaker.csv"))
    want = compare(a, b)
    dash = compare_dash
    dash.open("/compare")
    expect(dash.page.get_by_text(re.compile(r"^B is worse on macro F1 by 0\.067"))).to_be_visible()
    low, high = want["intervals"]["macro_roc_auc"]
    expect(dash.page.get_by_text(f"B is worse on macro ROC AUC by {-want['delta']['macro_roc_auc']:.3f} "
                                 f"[{low:+.3f}, {high:+.3f}]", exact=False)).to_be_visible()
    gallery = dash.page.locator(".st-key-cmp_changed")
    expect(gallery.get_by_text(f"{want['fixed']} images")).to_be_visible()
    expect(gallery.locator('[data-testid="stImage"]')).to_have_count(24)
    # both models' answers under each image: B right, A wrong
    first = gallery.locator('[data-testid="stImageCaption"]').first.inner_text()
    true, a_pred, b_pred = re.search(r"true (\d) · A (\d) .* B (\d)", first).groups()
    assert true == b_pred != a_pred

    dash.page.locator(".st-key-cmp_group").get_by_text(f"B broke ({want['broken']})").click()
    dash.wait_idle()
    expect(gallery.get_by_text(f"{want['broken']} images")).to_be_visible()

    # click the difference cell true 8 → predicted 8: the samples that moved out of it with B
    eight = a.dataset.classes.index("8")
    cell = dash.page.locator(f'.st-key-cmp_diff .cm-cell[data-true="{eight}"][data-pred="{eight}"]')
    expect(cell).to_have_text(f"{int(b.confusion[eight, eight] - a.confusion[eight, eight]):+d}")
    cell.scroll_into_view_if_needed()
    cell.click()
    dash.wait_idle()
    in_a = (a.dataset.y_true == eight) & (a.dataset.y_pred == eight)
    in_b = (b.dataset.y_true == eight) & (b.dataset.y_pred == eight)
    moved = dash.page.locator(".st-key-cmp_moved")
    expect(moved).to_contain_text(f"{int((~in_a & in_b).sum())} moved in with B, {int((in_a & ~in_b).sum())} moved out")
    in_ids = [str(i) for i in a.dataset.ids[np.flatnonzero(~in_a & in_b)]][:24]
    out_ids = [str(i) for i in a.dataset.ids[np.flatnonzero(in_a & ~in_b)]][:24]
    captions = moved.locator('[data-testid="stImageCaption"]').all_inner_texts()
    assert [c.split(" · ")[0] for c in captions] == in_ids + out_ids  # moved in, then moved out
    expect(dash.exceptions).to_have_count(0)
